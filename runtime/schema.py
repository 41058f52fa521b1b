"""model.json, the only contract between the converter and the runtime, read and checked."""

from __future__ import annotations

import math
from typing import NamedTuple

from .errors import ModelError
from .integrity import ALGORITHM, KEY as INTEGRITY
from .text import encodable

SCHEMA_VERSION = 1  # the model.json layout this runtime reads
# The largest parity tolerance a conversion may record (differences scaled by max(1, |value|)):
# the converter refuses a larger --tolerance, the runtime a larger reference.tolerance.
MAX_TOLERANCE = 0.01
HEX = frozenset("0123456789abcdef")
TASKS = ("classification", "regression", "anomaly")
DTYPES = ("float64", "float32")
LAYOUTS = ("matrix", "columns")
TYPES = ("number", "string", "boolean")
# onnx.outputs per task: the label (if any), then at most one kind of number, named for what it is.
LABELED = {"classification": True, "regression": False, "anomaly": True}
SCORES = {
    "classification": ("probabilities", "decision_function", None),  # None: a classifier that only votes
    "regression": ("prediction",),
    "anomaly": ("decision_function",),  # below 0 is an outlier, as predict's -1 says
}
REFERENCE_KEYS = {"prediction": "predictions"}  # model.json reference's key for each kind of number
# What a nullable string feature's null becomes in the model's string input: the converted graph
# reads this one value as the original reads a missing value (None or NaN).
NULL_STRING = "\x00"


class Feature(NamedTuple):
    name: str
    type: str  # "number", "string" or "boolean" (the model takes a boolean as the number 0 or 1)
    nullable: bool
    categories: tuple[str, ...] | None  # only when the model refuses any other value

    @property
    def is_string(self) -> bool:
        return self.type == "string"


class Schema(NamedTuple):
    name: str
    version: str
    task: str
    features: tuple[Feature, ...]
    classes: list | None
    file: str  # a bare file name inside the model directory
    sha256: str
    digest: str  # integrity.digest: model.json's meaning and model.onnx together
    input_dtype: str
    layout: str
    inputs: tuple[str, ...]
    outputs: dict  # "label" and/or the kind of number (``scores``) -> ONNX output name
    scores: str | None  # "probabilities", "decision_function", "prediction" or None (labels only)
    reference: dict
    names: list[str]  # the features' names, in order
    all_numbers: bool  # no string feature: the model takes one matrix of numbers
    nullable: tuple[bool, ...]  # per feature, in order
    booleans: tuple[int, ...]  # the positions of boolean features

    @classmethod
    def from_json(cls, meta) -> Schema:
        _expect(isinstance(meta, dict), "model.json must hold a JSON object")
        _check_schema_version(meta.get("schema_version", SCHEMA_VERSION))
        digest = _integrity(meta.get(INTEGRITY))
        task = _one_of(_field(meta, "task", str), TASKS, "task")
        onnx = _field(meta, "onnx", dict)
        features = _features(_field(meta, "features", list))
        classes = _classes(meta.get("classes")) if task == "classification" else None
        dtype, layout, inputs = _onnx_inputs(onnx, features)
        outputs, scores = _onnx_outputs(_field(onnx, "outputs", dict), task)
        reference = _reference(_field(meta, "reference", dict), task, scores)
        version = meta.get("version", "")
        _expect(isinstance(version, str), f"model.json version must be a str, got {type(version).__name__}")
        name = _field(meta, "name", str)
        _check_encodable(name, version, classes or [], features)
        return cls(
            name=name,
            version=version,
            task=task,
            features=features,
            classes=classes,
            file=_file_name(onnx.get("file")),
            sha256=_sha256(onnx.get("sha256"), "onnx.sha256"),
            digest=digest,
            input_dtype=dtype,
            layout=layout,
            inputs=inputs,
            outputs=outputs,
            scores=scores,
            reference=reference,
            names=[f.name for f in features],
            all_numbers=not any(f.is_string for f in features),
            nullable=tuple(f.nullable for f in features),
            booleans=tuple(i for i, f in enumerate(features) if f.type == "boolean"),
        )


def _check_schema_version(schema_version) -> None:
    _expect(
        type(schema_version) is int and schema_version == SCHEMA_VERSION,
        f"model.json schema_version {_shown(schema_version)} is not the {SCHEMA_VERSION} this runtime reads: "
        "convert the model with the converter of the same release",
    )


def _features(items: list) -> tuple[Feature, ...]:
    features = tuple(_feature(f, i) for i, f in enumerate(items))
    _expect(features, "model.json features is empty")
    names = [f.name for f in features]
    _expect(len(set(names)) == len(names), "model.json features repeat a name")
    return features


def _classes(classes) -> list:
    _expect(isinstance(classes, list) and len(classes) >= 2, "model.json classes must list 2 or more classes")
    _expect(all(type(c) in (str, int, float, bool) for c in classes), "model.json classes must be strings or numbers")
    _expect(len({(type(c), c) for c in classes}) == len(classes), "model.json classes repeat a class")
    return classes


def _onnx_inputs(onnx: dict, features: tuple[Feature, ...]) -> tuple[str, str, tuple[str, ...]]:
    """onnx.input_dtype, onnx.input_layout and onnx.inputs, which the layout says how many of."""
    dtype, layout = _field(onnx, "input_dtype", str), _field(onnx, "input_layout", str)
    _one_of(dtype, DTYPES, "onnx.input_dtype")
    _one_of(layout, LAYOUTS, "onnx.input_layout")
    _expect(
        layout == "columns" or not any(f.is_string for f in features),
        "model.json onnx.input_layout is matrix but some features are strings",
    )
    inputs = tuple(_field(onnx, "inputs", list))
    expected = 1 if layout == "matrix" else len(features)
    _expect(len(inputs) == expected, f"model.json onnx.inputs must name {expected} input(s)")
    _expect(all(isinstance(i, str) for i in inputs), "model.json onnx.inputs must be strings")
    return dtype, layout, inputs


def _onnx_outputs(outputs: dict, task: str) -> tuple[dict, str | None]:
    """The ONNX output of each thing ``task`` serves (the label, if any, then the kind of number), and that kind."""
    scores = _scores(outputs, task)
    keys = (("label",) if LABELED[task] else ()) + ((scores,) if scores else ())
    for key in keys:
        _expect(isinstance(outputs.get(key), str), f"model.json onnx.outputs.{key} is missing")
    return {key: outputs[key] for key in keys}, scores


def _reference(reference: dict, task: str, scores: str | None) -> dict:
    """The reference rows and the answers the model must give them, within reference.tolerance."""
    rows = reference.get("rows")
    _expect(isinstance(rows, list) and rows, "model.json reference.rows is missing")
    _expect(all(type(row) is list for row in rows), "model.json reference.rows must be lists of values")
    for key in (["labels"] if LABELED[task] else []) + ([REFERENCE_KEYS.get(scores, scores)] if scores else []):
        _expect(isinstance(reference.get(key), list), f"model.json reference.{key} must be a list")
    tolerance = reference.get("tolerance")
    _expect(
        type(tolerance) in (int, float) and math.isfinite(tolerance) and 0 < tolerance <= MAX_TOLERANCE,
        f"model.json reference.tolerance must be a number above 0 and at most {MAX_TOLERANCE:g}, "
        f"got {_shown(tolerance)}",
    )
    return reference


def _check_encodable(name: str, version: str, classes: list, features: tuple[Feature, ...]) -> None:
    """Every string an answer or a refusal can carry must encode as UTF-8 (no lone surrogate):
    the Python 3.12+ runtime client writes answers unescaped and dies on one."""
    for key, texts in (
        ("name", [name]),
        ("version", [version]),
        ("classes", [c for c in classes if isinstance(c, str)]),
        ("features", [f.name for f in features]),
        ("categories", [c for f in features for c in f.categories or ()]),
    ):
        _expect(all(encodable(t) for t in texts), f"model.json {key} holds a string that is not valid Unicode")


def _one_of(value: str, allowed: tuple[str, ...], key: str) -> str:
    _expect(value in allowed, f"model.json {key} must be one of {', '.join(allowed)}, got {_shown(value)}")
    return value


def _scores(outputs: dict, task: str) -> str | None:
    """The kind of number onnx.outputs names for ``task`` (one at most)."""
    known = {kind for kind in SCORES[task] if kind} | ({"label"} if LABELED[task] else set())
    other = sorted(str(key) for key in outputs if key not in known)
    _expect(not other, f"model.json onnx.outputs names {_shown(other[0]) if other else ''}, which {task} models do not serve")
    named = [kind for kind in SCORES[task] if kind is not None and kind in outputs]
    allowed = " or ".join(kind for kind in SCORES[task] if kind)
    _expect(len(named) <= 1, f"model.json onnx.outputs names both {' and '.join(named)}; one kind of number is served")
    _expect(named or None in SCORES[task], f"model.json onnx.outputs.{allowed} is missing")
    return named[0] if named else None


def _feature(data, index: int) -> Feature:
    _expect(isinstance(data, dict), f"model.json features[{index}] must be an object")
    name, kind = _field(data, "name", str), _field(data, "type", str)
    _expect(name != "", f"model.json features[{index}].name is empty")
    _expect(kind in TYPES, f"model.json features[{index}].type must be number, string or boolean, got {_shown(kind)}")
    nullable = data.get("nullable", False)
    _expect(type(nullable) is bool, f"model.json features[{index}].nullable must be true or false, got {_shown(nullable)}")
    categories = data.get("categories")
    if categories is not None:
        _expect(
            kind == "string" and isinstance(categories, list) and all(isinstance(c, str) for c in categories),
            f"model.json features[{index}].categories must be a list of strings on a string feature",
        )
        categories = tuple(categories)
    return Feature(name, kind, nullable, categories)


def _integrity(block) -> str:
    _expect(
        isinstance(block, dict),
        f"model.json has no {INTEGRITY} block: it was not written by this release's converter; convert the model again",
    )
    algorithm = block.get("algorithm")
    _expect(algorithm == ALGORITHM, f"model.json {INTEGRITY}.algorithm must be {ALGORITHM!r}, got {_shown(algorithm)}")
    return _sha256(block.get("digest"), f"{INTEGRITY}.digest")


def _sha256(value, key: str) -> str:
    _expect(
        isinstance(value, str) and len(value) == 64 and set(value.lower()) <= HEX,
        f"model.json {key} must be 64 hexadecimal digits, got {_shown(value)}",
    )
    return value.lower()


def _file_name(value) -> str:
    """onnx.file: a bare file name inside the model directory, never a path."""
    _expect(
        isinstance(value, str) and value not in ("", ".", "..") and not any(c in value for c in "/\\\0"),
        f"model.json onnx.file must be a bare file name inside the model directory (no '/', not '..'), "
        f"got {_shown(value)}",
    )
    return value


def _shown(value) -> str:
    """A model.json value in a message, bounded: short scalars as written, containers by type."""
    if value is None or type(value) in (bool, int, float, str):
        text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else "a very long integer"
        return text if len(text) <= 80 else text[:80] + "..."
    return f"a {type(value).__name__}"


def _field(data: dict, key: str, kind: type):
    value = data.get(key)
    _expect(isinstance(value, kind), f"model.json {key} must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _expect(condition, message: str) -> None:
    if not condition:
        raise ModelError(message)

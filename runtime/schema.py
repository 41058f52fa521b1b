"""model.json, the only contract between the converter and the runtime, read and checked."""

from __future__ import annotations

from typing import NamedTuple

from .errors import ModelError

SCHEMA_VERSION = 1  # the model.json layout this runtime reads
TASKS = ("classification", "regression")
DTYPES = ("float64", "float32")
LAYOUTS = ("matrix", "columns")
TYPES = ("number", "string")
OUTPUTS = {"classification": ("label", "probabilities"), "regression": ("prediction",)}


class Feature(NamedTuple):
    name: str
    type: str  # "number" or "string"
    nullable: bool
    categories: tuple[str, ...] | None  # only when the model refuses any other value

    @property
    def is_number(self) -> bool:
        return self.type == "number"


class Schema(NamedTuple):
    name: str
    version: str
    task: str
    features: tuple[Feature, ...]
    classes: list | None
    file: str
    sha256: str
    input_dtype: str
    layout: str
    inputs: tuple[str, ...]
    outputs: dict  # "label"/"probabilities" or "prediction" -> ONNX output name
    reference: dict
    names: list[str]  # the features' names, in order
    all_numbers: bool  # no string feature
    nullable: tuple[bool, ...]  # per feature, in order

    @classmethod
    def from_json(cls, meta) -> Schema:
        _expect(isinstance(meta, dict), "model.json must hold a JSON object")
        version = meta.get("schema_version", SCHEMA_VERSION)
        _expect(
            version == SCHEMA_VERSION,
            f"model.json schema_version {version!r} is not the {SCHEMA_VERSION} this runtime reads: "
            "convert the model with the converter of the same release",
        )
        task = _field(meta, "task", str)
        _expect(task in TASKS, f"model.json task must be one of {', '.join(TASKS)}, got {task!r}")
        onnx = _field(meta, "onnx", dict)
        features = tuple(_feature(f, i) for i, f in enumerate(_field(meta, "features", list)))
        _expect(features, "model.json features is empty")
        names = [f.name for f in features]
        _expect(len(set(names)) == len(names), "model.json features repeat a name")
        classes = meta.get("classes")
        if task == "classification":
            _expect(isinstance(classes, list) and len(classes) >= 2, "model.json classes must list 2 or more classes")
        dtype, layout = _field(onnx, "input_dtype", str), _field(onnx, "input_layout", str)
        _expect(dtype in DTYPES, f"model.json onnx.input_dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        _expect(layout in LAYOUTS, f"model.json onnx.input_layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
        _expect(
            layout == "columns" or all(f.is_number for f in features),
            "model.json onnx.input_layout is matrix but some features are strings",
        )
        inputs = tuple(_field(onnx, "inputs", list))
        expected_inputs = 1 if layout == "matrix" else len(features)
        _expect(len(inputs) == expected_inputs, f"model.json onnx.inputs must name {expected_inputs} input(s)")
        outputs = _field(onnx, "outputs", dict)
        for key in OUTPUTS[task]:
            _expect(isinstance(outputs.get(key), str), f"model.json onnx.outputs.{key} is missing")
        reference = _field(meta, "reference", dict)
        _expect(isinstance(reference.get("rows"), list) and reference["rows"], "model.json reference.rows is missing")
        return cls(
            name=str(_field(meta, "name", str)),
            version=str(meta.get("version", "")),
            task=task,
            features=features,
            classes=classes if task == "classification" else None,
            file=_field(onnx, "file", str),
            sha256=_field(onnx, "sha256", str).lower(),
            input_dtype=dtype,
            layout=layout,
            inputs=inputs,
            outputs={key: outputs[key] for key in OUTPUTS[task]},
            reference=reference,
            names=names,
            all_numbers=all(f.is_number for f in features),
            nullable=tuple(f.nullable for f in features),
        )


def _feature(data, index: int) -> Feature:
    _expect(isinstance(data, dict), f"model.json features[{index}] must be an object")
    name, kind = _field(data, "name", str), _field(data, "type", str)
    _expect(kind in TYPES, f"model.json features[{index}].type must be number or string, got {kind!r}")
    categories = data.get("categories")
    if categories is not None:
        _expect(
            kind == "string" and isinstance(categories, list) and all(isinstance(c, str) for c in categories),
            f"model.json features[{index}].categories must be a list of strings on a string feature",
        )
        categories = tuple(categories)
    return Feature(name, kind, bool(data.get("nullable", False)), categories)


def _field(data: dict, key: str, kind: type):
    value = data.get(key)
    _expect(isinstance(value, kind), f"model.json {key} must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _expect(condition, message: str) -> None:
    if not condition:
        raise ModelError(message)

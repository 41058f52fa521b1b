"""The converted model: checked on load (sha256, artifact digest, self-check), then run on validated inputs."""

from __future__ import annotations

import json
import os
import stat
import time
from typing import NamedTuple

import numpy as np
import onnxruntime as ort

from . import integrity
from .config import MODEL_SHA256, Settings
from .errors import ModelError, RequestError
from .schema import REFERENCE_KEYS, Schema
from .text import first_line
from .validate import Inputs, inputs_from_rows

LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


# The Prediction field holding each kind of number a schema serves (Schema.scores).
FIELDS = {"probabilities": "probabilities", "decision_function": "scores", "prediction": "values"}


class Prediction(NamedTuple):
    labels: np.ndarray | None = None  # classifiers and outlier detectors: (n,)
    probabilities: np.ndarray | None = None  # classifiers: (n, classes), column i = classes[i]
    values: np.ndarray | None = None  # regressors: (n,) or (n, targets)
    # decision_function: (n,) for two classes (above 0 means classes[1]) and outlier
    # detectors (below 0 means outlier), else (n, classes)
    scores: np.ndarray | None = None

    def numbers(self, kind: str) -> np.ndarray:
        """The numbers of ``kind`` (a Schema.scores value)."""
        return getattr(self, FIELDS[kind])


class Model:
    def __init__(self, schema: Schema, session: ort.InferenceSession, timings: dict | None = None):
        self.schema = schema
        self.session = session
        self.timings = timings or {}
        self._outputs = list(schema.outputs.values())

    @classmethod
    def load(cls, settings: Settings) -> Model:
        """Read model.json and model.onnx from settings.model_dir; refuse anything that does not check out."""
        directory = os.fspath(settings.model_dir)
        started = time.perf_counter()
        meta = _read_json(directory, "model.json")
        schema = _contract(Schema.from_json, meta)
        if settings.model_version:
            schema = schema._replace(version=settings.model_version)
        onnx_path = os.path.join(directory, schema.file)  # a bare file name: Schema checked it
        data = _read_file(onnx_path)
        digest = integrity.sha256_hex(data)
        if digest != schema.sha256:
            raise ModelError(
                f"{onnx_path} has sha256 {digest}, but model.json says {schema.sha256}: "
                "the model file is corrupt or was swapped; refusing to serve it"
            )
        _check_integrity(meta, schema, digest)
        loaded = time.perf_counter()
        session = _session(data, settings, onnx_path)
        created = time.perf_counter()
        model = cls(schema, session)
        model._check_signature()
        _contract(model.self_check)
        model.timings = {
            "read_ms": (loaded - started) * 1e3,
            "session_ms": (created - loaded) * 1e3,
            "self_check_ms": (time.perf_counter() - created) * 1e3,
        }
        return model

    def predict(self, inputs: Inputs) -> Prediction:
        results = self.session.run(self._outputs, self._feeds(inputs))
        if self.schema.task == "regression":
            return Prediction(values=_column(results[0]))
        scores = self.schema.scores
        numbers = {FIELDS[scores]: _column(results[1])} if scores else {}
        return Prediction(labels=results[0].ravel(), **numbers)

    def self_check(self) -> None:
        """Run model.json's reference rows and compare with the answers recorded at conversion."""
        reference = self.schema.reference
        try:
            inputs = inputs_from_rows(reference["rows"], self.schema, "reference.rows")
        except RequestError as err:
            raise ModelError(f"self-check: model.json {err.message}") from None
        try:
            got = self.predict(inputs)
        except Exception as err:  # onnxruntime's own exception types
            raise ModelError(
                f"self-check failed: onnxruntime cannot run model.json's reference rows: {first_line(err)}"
            ) from None
        tolerance = float(reference["tolerance"])  # Schema checked: a number in (0, MAX_TOLERANCE]
        if got.labels is not None:
            labels, recorded = got.labels.tolist(), reference.get("labels")
            if labels != recorded:
                recorded = recorded if isinstance(recorded, list) else []
                row = _first_difference(labels, recorded)
                raise ModelError(
                    f"self-check failed: reference row {row} gets label {_at(labels, row)!r}, "
                    f"model.json recorded {_at(recorded, row)!r}"
                )
        scores = self.schema.scores
        if scores is None:
            return
        actual = got.numbers(scores)
        recorded = reference.get(REFERENCE_KEYS.get(scores, scores))
        try:
            expected = np.asarray(recorded, dtype=np.float64)
        except (TypeError, ValueError):
            expected = None
        if expected is None or expected.shape != actual.shape:
            raise ModelError(
                f"self-check failed: the model answers shape {list(actual.shape)}, "
                f"model.json's reference does not match it"
            )
        scaled = np.abs(actual - expected) / np.maximum(1.0, np.abs(expected))
        bad = ~(scaled <= tolerance)  # NaN counts as a difference
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            worst = float(np.nan_to_num(scaled, nan=np.inf).max())
            raise ModelError(
                f"self-check failed: reference row {row} differs by {worst:.3g} (tolerance {tolerance:g}): "
                "model.onnx does not answer as model.json recorded"
            )

    def _feeds(self, inputs: Inputs) -> dict[str, np.ndarray]:
        names = self.schema.inputs
        if isinstance(inputs, np.ndarray):  # (n, features) numbers
            if self.schema.layout == "matrix":
                return {names[0]: inputs}
            return {name: np.ascontiguousarray(inputs[:, j:j + 1]) for j, name in enumerate(names)}
        return {name: column.reshape(-1, 1) for name, column in zip(names, inputs, strict=True)}

    def _check_signature(self) -> None:
        inputs = [i.name for i in self.session.get_inputs()]
        outputs = {o.name for o in self.session.get_outputs()}
        if inputs != list(self.schema.inputs):
            raise ModelError(f"model.onnx takes inputs {inputs}, model.json says {list(self.schema.inputs)}")
        missing = [name for name in self._outputs if name not in outputs]
        if missing:
            raise ModelError(f"model.onnx has no output {missing[0]!r} that model.json names")


def _column(values: np.ndarray) -> np.ndarray:
    """(n, 1) as (n,): one target, one score."""
    return values[:, 0] if values.ndim == 2 and values.shape[1] == 1 else values


def check_pin(digest: str, settings: Settings, where: str) -> None:
    """Refuse a model whose artifact digest is not the one MODEL_SHA256 pins, when it pins one."""
    pin = settings.model_sha256
    if pin is not None and digest != pin:
        raise ModelError(f"{where}: the model's artifact digest is {digest}, but {MODEL_SHA256} pins {pin}; "
                         "refusing to serve it")


def _first_difference(a: list, b: list) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _at(items: list, i: int):
    return items[i] if i < len(items) else None


def _session(data: bytes, settings: Settings, path: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = settings.intra_op_threads
    options.inter_op_num_threads = settings.inter_op_threads
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = LEVELS[settings.graph_optimization]
    options.log_severity_level = 3  # errors only: onnxruntime's warnings are not JSON log lines
    try:
        return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own untyped exceptions
        raise ModelError(f"onnxruntime cannot load {path}: {first_line(err)}") from None


def _check_integrity(meta: dict, schema: Schema, onnx_sha256: str) -> None:
    """One digest over model.json's meaning and model.onnx (runtime/integrity.py): an edited
    class order, feature name, nullable flag or tolerance is refused like a swapped model."""
    try:
        expected = integrity.digest(meta, onnx_sha256)
    except (ValueError, TypeError, RecursionError) as err:
        raise ModelError(f"model.json cannot be encoded for its integrity check: {first_line(err)}") from None
    if expected != schema.digest:
        raise ModelError(
            f"model.json's {integrity.KEY}.digest does not match model.json and model.onnx "
            f"(computed {expected}): model.json was edited after conversion, or belongs to another "
            "model.onnx; refusing to serve it"
        )


def _contract(check, *args):
    """Run a check of model.json's content; any failure it did not foresee is still a ModelError."""
    try:
        return check(*args)
    except ModelError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError) as err:
        raise ModelError(f"model.json does not fit this runtime's contract ({type(err).__name__}: {first_line(err)})") from None


def _read_file(path: str) -> bytes:
    """The bytes of a regular file: a device, FIFO or directory is refused without reading it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise ModelError(f"cannot read {path}: {err.strerror or err}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ModelError(f"{path} is not a regular file; refusing to read it")
    with os.fdopen(fd, "rb") as stream:
        try:
            return stream.read()
        except OSError as err:
            raise ModelError(f"cannot read {path}: {err.strerror or err}") from None


def _read_json(directory: str, name: str):
    path = os.path.join(directory, name)
    if not os.path.lexists(path):
        raise ModelError(f"no {name} in {directory}: set MODEL_DIR to the folder holding model.json and model.onnx")
    try:
        text = _read_file(path).decode("utf-8")
    except UnicodeDecodeError as err:
        raise ModelError(f"cannot read {path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    try:
        return json.loads(text, parse_constant=_not_json)
    except ValueError as err:
        raise ModelError(f"{path} is not valid JSON: {first_line(err)}") from None
    except RecursionError:
        raise ModelError(f"{path} is not valid JSON: nested too deeply") from None


def _not_json(constant: str):
    raise ValueError(f"{constant} is not a JSON value")

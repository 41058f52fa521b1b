"""Compare the original model with onnxruntime on the same rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..runtime.schema import NULL_STRING
from .families import input_categories
from .schema import Schema, first_step


@dataclass
class Outputs:
    # probabilities or decision_function (n,) / (n, classes), predictions (n,) / (n, targets);
    # None for a classifier that only votes
    values: np.ndarray | None
    labels: np.ndarray | None  # predicted labels, classifiers and outlier detectors only


ORIGINAL_METHODS = {"probabilities": "predict_proba", "decision_function": "decision_function", "prediction": "predict"}


def original_outputs(model, frame: pd.DataFrame, schema: Schema) -> Outputs:
    data = _as_trained(frame, schema, model) if hasattr(model, "feature_names_in_") else _matrix(frame, schema)
    values = None
    if schema.scores is not None:
        values = _column(np.asarray(getattr(model, ORIGINAL_METHODS[schema.scores])(data), dtype=np.float64))
    labels = np.asarray(model.predict(data)).ravel() if schema.task != "regression" else None
    return Outputs(values, labels)


def onnx_outputs(session, frame: pd.DataFrame, schema: Schema, dtype: str) -> Outputs:
    results = session.run(None, onnx_feeds(frame, schema, dtype))
    if schema.task == "regression":
        return Outputs(_column(np.asarray(results[0], dtype=np.float64)), None)
    values = _column(np.asarray(results[1], dtype=np.float64)) if schema.scores is not None else None
    return Outputs(values, np.asarray(results[0]).ravel())


def _column(values: np.ndarray) -> np.ndarray:
    """(n, 1) as (n,): one target, one score."""
    return values[:, 0] if values.ndim == 2 and values.shape[1] == 1 else values


def onnx_feeds(frame: pd.DataFrame, schema: Schema, dtype: str) -> dict[str, np.ndarray]:
    """The inputs onnxruntime takes: one matrix, or one (n, 1) column per feature."""
    if not schema.by_column:
        return {"X": frame.to_numpy(dtype=dtype)}
    feeds = {}
    for f in schema.features:
        column = frame[f.name]
        if f.kind == "string":
            text = [NULL_STRING if v is None or v != v else str(v) for v in column.tolist()]
            feeds[f.name] = np.asarray(text, dtype=object).reshape(-1, 1)
        else:
            feeds[f.name] = column.to_numpy(dtype=dtype).reshape(-1, 1)
    return feeds


def _as_trained(frame: pd.DataFrame, schema: Schema, model) -> pd.DataFrame:
    """The frame with its columns typed as the model was fitted on them: booleans as bool columns
    (one with a missing value stays numbers: a bool column cannot hold it), and the pandas
    ``category`` columns of an estimator that encodes them itself, with the categories it knows
    (others becoming missing, as pandas makes them)."""
    booleans = [f.name for f in schema.features if f.kind == "boolean" and frame[f.name].notna().all()]
    frame = frame.astype(dict.fromkeys(booleans, bool)) if booleans else frame
    found = input_categories(first_step(model))
    if found is None or not found.pandas:
        return frame
    frame = frame.copy()
    for j, known in found.columns.items():
        name = schema.names[j]
        values = frame[name].astype(object)
        frame[name] = pd.Categorical(values.where(values.isin(list(known)), None), categories=known)
    return frame


def _matrix(frame: pd.DataFrame, schema: Schema) -> np.ndarray:
    if not any(f.kind == "string" for f in schema.features):
        return frame.to_numpy(dtype=np.float64)
    return frame.to_numpy(dtype=object)


@dataclass
class Comparison:
    rows: int
    max_abs_diff: float
    max_rel_diff: float
    worst_row: int
    labels_compared: int
    labels_agree: int
    labels_ambiguous: int  # disagreements where the original's top two scores tie within tolerance
    passed: bool

    def to_json(self) -> dict:
        out = {
            "rows": self.rows,
            "max_abs_diff": _finite(self.max_abs_diff),
            "max_rel_diff": _finite(self.max_rel_diff),
            "passed": self.passed,
        }
        if self.labels_compared:
            out["label_agreement"] = self.labels_agree / self.labels_compared
            out["label_disagreements_on_ties"] = self.labels_ambiguous
        return out


def compare(reference: Outputs, candidate: Outputs, tolerance: float) -> Comparison:
    """Differences are scaled by max(1, |reference|): absolute for probabilities and small
    values, relative for large regression targets. Labels must agree, except where the
    original's own scores leave them open (_undecided)."""
    if reference.values is None:  # a classifier that only votes: its labels are all there is
        n = len(reference.labels)
        ref = got = np.zeros((n, 0))
    else:
        ref, got = reference.values, candidate.values
    if got is None or ref.shape != got.shape or len(ref) == 0:
        return Comparison(len(ref), float("inf"), float("inf"), 0, 0, 0, 0, False)
    abs_diff = np.abs(ref - got)
    abs_diff = np.where(np.isnan(ref) & np.isnan(got), 0.0, np.nan_to_num(abs_diff, nan=np.inf))
    scaled = abs_diff / np.maximum(1.0, np.abs(np.nan_to_num(ref)))
    per_row = scaled.reshape(len(ref), -1).max(axis=1, initial=0.0)
    worst = int(np.argmax(per_row))
    # Relative differences of values near zero say nothing: measure them where |ref| >= 1e-3.
    magnitude = np.abs(np.nan_to_num(ref))
    rel = np.where(magnitude >= 1e-3, abs_diff / np.maximum(magnitude, 1e-3), 0.0)
    values_passed = bool(per_row.max() <= tolerance)
    passed = values_passed

    agree = ambiguous = compared = 0
    if reference.labels is not None and candidate.labels is not None:
        compared = len(ref)
        same = np.asarray([str(a) == str(b) for a, b in zip(reference.labels, candidate.labels, strict=True)], dtype=bool)
        agree = int(same.sum())
        ambiguous = int((~same & _undecided(ref, tolerance)).sum())
        passed = passed and agree + ambiguous == compared
        if values_passed and not passed:  # the worst row is the first label that differs
            worst = int(np.argmax(~same & ~_undecided(ref, tolerance)))
    return Comparison(
        rows=len(ref),
        max_abs_diff=float(abs_diff.max(initial=0.0)),
        max_rel_diff=float(rel.max(initial=0.0)),
        worst_row=worst,
        labels_compared=compared,
        labels_agree=agree,
        labels_ambiguous=ambiguous,
        passed=passed,
    )


def _undecided(scores: np.ndarray, tolerance: float) -> np.ndarray:
    """Rows whose label the original's own scores leave open: top two classes within
    ``tolerance``, or a binary / outlier score within ``tolerance`` of its 0 boundary."""
    if scores.ndim == 1:
        return np.abs(scores) <= tolerance
    if scores.shape[1] < 2:
        return np.zeros(len(scores), dtype=bool)
    top2 = np.sort(scores, axis=1)[:, -2:]
    return (top2[:, 1] - top2[:, 0]) <= tolerance


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None

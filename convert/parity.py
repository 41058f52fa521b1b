"""Compare the original model with onnxruntime on the same rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .schema import Schema


@dataclass
class Outputs:
    values: np.ndarray  # probabilities (n, classes) or predictions (n,) / (n, targets)
    labels: np.ndarray | None  # predicted labels, classifiers only


def original_outputs(model, frame: pd.DataFrame, schema: Schema) -> Outputs:
    data = frame if hasattr(model, "feature_names_in_") else _matrix(frame, schema)
    if schema.task == "classification":
        return Outputs(np.asarray(model.predict_proba(data), dtype=np.float64), np.asarray(model.predict(data)))
    return Outputs(np.asarray(model.predict(data), dtype=np.float64), None)


def onnx_outputs(session, frame: pd.DataFrame, schema: Schema, dtype: str) -> Outputs:
    results = session.run(None, onnx_feeds(frame, schema, dtype))
    if schema.task == "classification":
        return Outputs(np.asarray(results[1], dtype=np.float64), np.asarray(results[0]).ravel())
    values = np.asarray(results[0], dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    return Outputs(values, None)


def onnx_feeds(frame: pd.DataFrame, schema: Schema, dtype: str) -> dict[str, np.ndarray]:
    """The inputs onnxruntime takes: one matrix, or one (n, 1) column per feature."""
    if not schema.by_column:
        return {"X": frame.to_numpy(dtype=dtype)}
    feeds = {}
    for f in schema.features:
        column = frame[f.name]
        if f.kind == "string":
            feeds[f.name] = column.astype(str).to_numpy(dtype=object).reshape(-1, 1)
        else:
            feeds[f.name] = column.to_numpy(dtype=dtype).reshape(-1, 1)
    return feeds


def _matrix(frame: pd.DataFrame, schema: Schema) -> np.ndarray:
    if all(f.kind == "number" for f in schema.features):
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
    original itself scores its top two classes within ``tolerance`` of each other."""
    ref, got = reference.values, candidate.values
    if ref.shape != got.shape or len(ref) == 0:
        return Comparison(len(ref), float("inf"), float("inf"), 0, 0, 0, 0, False)
    abs_diff = np.abs(ref - got)
    abs_diff = np.where(np.isnan(ref) & np.isnan(got), 0.0, np.nan_to_num(abs_diff, nan=np.inf))
    scaled = abs_diff / np.maximum(1.0, np.abs(np.nan_to_num(ref)))
    per_row = scaled.reshape(len(ref), -1).max(axis=1)
    worst = int(np.argmax(per_row))
    # Relative differences of values near zero say nothing: measure them where |ref| >= 1e-3.
    magnitude = np.abs(np.nan_to_num(ref))
    rel = np.where(magnitude >= 1e-3, abs_diff / np.maximum(magnitude, 1e-3), 0.0)
    passed = bool(per_row.max() <= tolerance)

    agree = ambiguous = compared = 0
    if reference.labels is not None and candidate.labels is not None:
        compared = len(ref)
        same = np.asarray([str(a) == str(b) for a, b in zip(reference.labels, candidate.labels)])
        agree = int(same.sum())
        top2 = np.sort(ref, axis=1)[:, -2:]
        tied = (top2[:, 1] - top2[:, 0]) <= tolerance
        ambiguous = int((~same & tied).sum())
        passed = passed and agree + ambiguous == compared
    return Comparison(
        rows=len(ref),
        max_abs_diff=float(abs_diff.max()),
        max_rel_diff=float(rel.max()),
        worst_row=worst,
        labels_compared=compared,
        labels_agree=agree,
        labels_ambiguous=ambiguous,
        passed=passed,
    )


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None

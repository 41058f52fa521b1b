"""What tells a model owner that their model drifts, summed up per request for the EMF line.

Classifiers:
- Predictions, by the dimension "class": how many of the request's rows each class got. Only for
  models of at most MAX_CLASSES classes: each class is a custom metric CloudWatch bills.
- TopProbabilityBelow50 ... TopProbabilityBelow90: how many rows had a top-class probability
  under 0.5 ... 0.9. Cumulative, so that one metric over Rows is the share of answers the model
  was less sure of than that (TopProbabilityBelow70 / Rows > 20%: an alarm can watch it).
Regressors: PredictionMin, PredictionMax and PredictionSum over the request's predictions (every
target of a multi-target model); Minimum of PredictionMin and Maximum of PredictionMax over a
period give the range, sum(PredictionSum) / sum(Rows) the mean. Non-finite predictions are left
out, and a request with none finite reports none of the three.
Classifiers that answer a decision function or labels only: Predictions by class, no
TopProbability counts. Outlier detectors: Predictions by class "1" (inlier) and "-1" (outlier).

Small batches are summed up in Python: numpy's per-call overhead is most of the cost of one row.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import NamedTuple

import numpy as np

from .model import Prediction
from .observability import dimension_value
from .schema import Schema

CONFIDENCE_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
THRESHOLDS = np.array(CONFIDENCE_THRESHOLDS)
MAX_CLASSES = 20
SMALL = 32  # rows up to which Python is cheaper than numpy


class Summary(NamedTuple):
    values: dict  # metric name -> value, for the request's own line
    classes: list  # (class dimension value, rows) for each class the request's rows got; classifiers only


class ClassificationMetrics:
    METRICS = tuple((f"TopProbabilityBelow{round(t * 100)}", "Count") for t in CONFIDENCE_THRESHOLDS)
    _NAMED = tuple(zip((name for name, _ in METRICS), CONFIDENCE_THRESHOLDS, strict=True))

    def __init__(self, classes: list):
        self.by_class = len(classes) <= MAX_CLASSES
        self._dimension = {label: class_dimension(label, i) for i, label in enumerate(classes)}
        numeric = all(type(label) in (int, float) for label in classes)
        self._sorted = np.array(sorted(classes)) if numeric else None  # numeric labels, counted by bincount
        self._sorted_dimensions = [self._dimension[label] for label in sorted(classes)] if numeric else None

    def summarize(self, prediction: Prediction) -> Summary:
        probabilities, labels = prediction.probabilities, prediction.labels
        if probabilities is not None and labels is not None and len(labels) == 1:  # the common case
            top = max(probabilities[0].tolist())
            label = labels.tolist()[0]
            classes = [(self._dimension.get(label) or class_dimension(label, -1), 1)] if self.by_class else []
            return Summary({name: int(top < t) for name, t in self._NAMED}, classes)
        values = {}
        if probabilities is not None and len(probabilities):
            values = dict(zip((name for name, _ in self.METRICS), _below(_top(probabilities)), strict=True))
        classes = []
        if self.by_class and labels is not None:
            classes = self._numeric_counts(labels) if self._sorted is not None and len(labels) > SMALL else None
            if classes is None:
                dimension = self._dimension
                classes = [(dimension.get(label) or class_dimension(label, -1), count)
                           for label, count in Counter(labels.tolist()).items()]
        return Summary(values, classes)

    def _numeric_counts(self, labels: np.ndarray) -> list | None:
        """Rows per class in a few numpy calls, or None for a label that is not a class."""
        index = np.searchsorted(self._sorted, labels)
        if not np.array_equal(self._sorted[np.minimum(index, len(self._sorted) - 1)], labels):
            return None
        counts = np.bincount(index, minlength=len(self._sorted)).tolist()
        return [(name, count) for name, count in zip(self._sorted_dimensions, counts, strict=True) if count]


class RegressionMetrics:
    METRICS = (("PredictionMin", "None"), ("PredictionMax", "None"), ("PredictionSum", "None"))
    by_class = False

    def summarize(self, prediction: Prediction) -> Summary:
        found = _range(prediction.values)
        if found is None:
            return Summary({}, [])
        return Summary(dict(zip((name for name, _ in self.METRICS), found, strict=True)), [])


def for_task(schema: Schema) -> ClassificationMetrics | RegressionMetrics | None:
    if schema.task == "classification" and schema.classes:
        return ClassificationMetrics(list(schema.classes))
    if schema.task == "regression":
        return RegressionMetrics()
    if schema.task == "anomaly":
        return ClassificationMetrics([-1, 1])
    return None


def class_dimension(label, index: int) -> str:
    """A class label as a CloudWatch dimension value (observability.dimension_value): numbers and
    plain ASCII labels stand as they are, others as their JSON string, or by their index when
    even that is too long."""
    return dimension_value(label if isinstance(label, str) else json.dumps(label), f"class #{index}")


def _top(probabilities: np.ndarray) -> list | np.ndarray:
    """The top-class probability of each row."""
    if len(probabilities) <= SMALL:
        return [max(row) for row in probabilities.tolist()]
    # A reduction along rows of a few columns is slow in C order (0.5 ms for 10,000 x 2): in
    # Fortran order each column is one contiguous pass.
    return np.asfortranarray(probabilities).max(axis=1)


def _below(top) -> list[int]:
    """How many of ``top`` are under each threshold."""
    if isinstance(top, list):
        return [sum(p < t for p in top) for t in CONFIDENCE_THRESHOLDS]
    # Each row's bucket (how many thresholds it reaches), counted, then summed up: two numpy
    # calls, where a comparison per threshold took ten.
    reached = np.bincount(np.searchsorted(THRESHOLDS, top, side="right"), minlength=len(THRESHOLDS) + 1).tolist()
    return [sum(reached[: i + 1]) for i in range(len(THRESHOLDS))]


def _range(values: np.ndarray | None) -> tuple[float, float, float] | None:
    if values is None or not values.size:
        return None
    if values.size <= SMALL:
        finite = [v for v in values.ravel().tolist() if math.isfinite(v)]
        return (min(finite), max(finite), math.fsum(finite)) if finite else None
    flat = values.ravel()
    found = (float(flat.min()), float(flat.max()), float(flat.sum(dtype=np.float64)))
    if all(map(math.isfinite, found)):
        return found
    flat = flat[np.isfinite(flat)]
    if not flat.size:
        return None
    found = (float(flat.min()), float(flat.max()), float(flat.sum(dtype=np.float64)))
    return found if math.isfinite(found[2]) else None

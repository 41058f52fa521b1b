"""Model families: one module each, holding all that the converter does differently for it.

A family module provides the ``Family`` interface of base.py: which estimators it owns, its
native model files and how they load (and how a native object found in a pickle becomes an
estimator), its skl2onnx converter registration, its refusals, whether it compares in float32,
how the model is prepared for the converter, its split thresholds (for the probes and the
float32 floor), its float64 numbers, its own categorical encoding, and its repairs to the
converted graph. A module takes base.py's default for each thing its family does not do.
``FAMILIES`` lists them; the first that owns the final estimator is its family, the last
(scikit_learn) owns every estimator.

scikit-learn's forests and gradient boosting, XGBoost and CatBoost cast inputs to float32 before
comparing them with a threshold: the converters' float32 trees (with thresholds rounded down,
graph_fixes.round_thresholds_down) answer as they do. HistGradientBoosting and LightGBM compare
float64 inputs with float64 thresholds and sum float64 leaf values, which no float32 tree can
reproduce: a value within a float32 step of a threshold can go the other way. For those, the
family module reads the model's own numbers (``exact_trees``), keyed as the converter numbers
its nodes, and tree_ensemble.rewrite writes them into a float64 TreeEnsemble.
"""

from __future__ import annotations

import numpy as np

from . import catboost, hist_gradient_boosting, lightgbm, scikit_learn, sklearn_trees, xgboost
from .base import ExactTrees, Family, Thresholds  # noqa: F401  re-exported
from .categories import Categories

FAMILIES: tuple[Family, ...] = (catboost, xgboost, lightgbm, hist_gradient_boosting, sklearn_trees, scikit_learn)


def family_of(estimator) -> Family:
    """The family of a final estimator (scikit_learn when no other owns it)."""
    return next(family for family in FAMILIES if family.owns(estimator))


def native_family(suffix: str) -> Family | None:
    """The family whose native model files end in ``suffix`` (lower case, with its dot)."""
    return next((family for family in FAMILIES if suffix in family.SUFFIXES), None)


def wrap(obj):
    """A native object read from a pickle, as its family's estimator; the object itself otherwise."""
    for family in FAMILIES:
        wrapped = family.wrap(obj)
        if wrapped is not None:
            return wrapped
    return obj


def skops_types() -> tuple[str, ...]:
    return tuple(prefix for family in FAMILIES for prefix in family.SKOPS_TYPES)


def register() -> None:
    for family in FAMILIES:
        family.register()


def input_categories(estimator) -> Categories | None:
    """How ``estimator`` encodes its categorical inputs itself, if it does."""
    return family_of(estimator).categories(estimator)


def split_thresholds(estimator) -> dict[int, np.ndarray]:
    """Thresholds per input column of ``estimator``, as float64, in the units it compares."""
    found: dict[int, list] = {}
    for features, values in family_of(estimator).thresholds(estimator):
        for j, t in zip(np.asarray(features).tolist(), np.asarray(values).tolist(), strict=True):
            found.setdefault(int(j), []).append(t)
    return {j: np.unique(np.asarray(v, dtype=np.float64)) for j, v in found.items()}


def exact_trees(final) -> ExactTrees | None:
    """The float64 numbers of ``final`` (a model's final estimator), when its family compares in float64."""
    return family_of(final).exact_trees(final)

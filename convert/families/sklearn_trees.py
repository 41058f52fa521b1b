"""scikit-learn's trees and the ensembles built of them: decision trees, random forests, extra
trees, gradient boosting, and the bagging, AdaBoost and isolation forests whose members are trees.

Trees, forests and gradient boosting cast their input to float32 before comparing it with a
threshold (float64, rounded down to float32 in the graph by graph_fixes.round_thresholds_down);
their converted trees take float32 behind an explicit cast."""

from __future__ import annotations

import numpy as np

from .base import (  # noqa: F401  the defaults of the Family interface
    SKOPS_TYPES,
    SUFFIXES,
    check,
    fix_graph,
    fix_thresholds,
    load_file,
    no_categories as categories,
    no_exact_trees as exact_trees,
    no_numeric_categories as numeric_categories,
    prepare,
    register,
    wrap,
)

NAME = "scikit-learn trees"
FLOAT32_TREES = (
    "DecisionTreeClassifier", "DecisionTreeRegressor", "RandomForestClassifier",
    "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
    "GradientBoostingClassifier", "GradientBoostingRegressor",
)


def owns(estimator) -> bool:
    return type(estimator).__name__ in FLOAT32_TREES or next(sklearn_trees(estimator), None) is not None


def compares_in_float32(estimator) -> bool:
    return type(estimator).__name__ in FLOAT32_TREES


def thresholds(estimator):
    pairs = []
    for tree in sklearn_trees(estimator):
        inner = tree.feature >= 0
        pairs.append((tree.feature[inner], tree.threshold[inner]))
    return pairs


def sklearn_trees(estimator):
    """The fitted ``tree_`` of the estimator, or of each of its members."""
    if hasattr(estimator, "tree_"):
        yield estimator.tree_
    members = getattr(estimator, "estimators_", None)
    if members is None:
        return
    for member in np.ravel(np.asarray(members, dtype=object)):
        if hasattr(member, "tree_"):
            yield member.tree_

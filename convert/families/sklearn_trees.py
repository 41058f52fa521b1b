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
    load_file,
    no_categories as categories,
    no_exact_trees as exact_trees,
    no_numeric_categories as numeric_categories,
    prepare,
    register,
    wrap,
)

NAME = "scikit-learn trees"
LEQ = b"BRANCH_LEQ"
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


def fix_thresholds(onx, model) -> bool:
    """Give each `x <= t` node the largest float32 not above its own tree's threshold t.

    Several thresholds of one feature can be written as the same float32 and still need
    different floors: real data repeats values, so a split can fall between two neighbouring
    float32 values. Each node is therefore found by the tree and node ids the converter wrote
    (tree i: the i-th tree of ``sklearn_trees``; node ids: the tree's own). Returns False, leaving
    the model to graph_fixes.round_thresholds_down, unless the graph has one tree ensemble and
    every one of its nodes is found on the same feature within a float32 step of the value written."""
    from ..steps import final_and_preceding
    from ..tree_ensemble import LEGACY

    final, _ = final_and_preceding(model)
    if not compares_in_float32(final):
        return False
    trees = list(sklearn_trees(final))
    ensembles = [node for node in onx.graph.node if node.op_type in LEGACY]
    if len(ensembles) != 1:
        return False
    attrs = {a.name: a for a in ensembles[0].attribute}
    if "nodes_values" not in attrs:
        return False
    values = attrs["nodes_values"].floats
    floors = {}
    for i, (tree_id, node_id, feature, mode) in enumerate(zip(
            attrs["nodes_treeids"].ints, attrs["nodes_nodeids"].ints, attrs["nodes_featureids"].ints,
            attrs["nodes_modes"].strings, strict=True)):
        if mode != LEQ:
            continue
        tree = trees[tree_id] if tree_id < len(trees) else None
        if tree is None or node_id >= tree.node_count or tree.feature[node_id] != feature:
            return False
        threshold = float(tree.threshold[node_id])
        if abs(values[i] - threshold) > float(np.spacing(np.float32(abs(threshold)))):
            return False
        floors[i] = float32_floor(threshold)
    for i, floor in floors.items():
        values[i] = floor
    return True


def float32_floor(value: float) -> float:
    """The largest float32 not above ``value``."""
    nearest = np.float32(value)
    return float(nearest if float(nearest) <= value else np.nextafter(nearest, np.float32(-np.inf)))

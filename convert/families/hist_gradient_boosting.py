"""scikit-learn's HistGradientBoostingClassifier and HistGradientBoostingRegressor.

They compare float64 inputs with float64 thresholds (``num_threshold``) and add float64 leaf
values to a float64 baseline. skl2onnx numbers tree ``k`` of iteration ``i`` as
``i * n_trees_per_iteration + k`` when an iteration has several trees (multiclass), else ``i``,
and each node by its index in the predictor's node array."""

from __future__ import annotations

import numpy as np

NAMES = ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor")


def exact_trees(estimator):
    from . import ExactTrees

    if type(estimator).__name__ not in NAMES or not getattr(estimator, "_predictors", None):
        return None
    found = ExactTrees("HistGradientBoosting")
    for i, trees in enumerate(estimator._predictors):
        for k, predictor in enumerate(trees):
            tree_id = i * len(trees) + k if len(trees) > 1 else i
            nodes = predictor.nodes
            for j in range(len(nodes)):
                if nodes["is_leaf"][j]:
                    found.leaves[tree_id, j] = float(nodes["value"][j])
                elif not nodes["is_categorical"][j]:
                    found.splits[tree_id, j] = (int(nodes["feature_idx"][j]), float(nodes["num_threshold"][j]))
    found.base = np.asarray(estimator._baseline_prediction, dtype=np.float64).ravel()
    return found

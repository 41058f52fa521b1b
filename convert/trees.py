"""Split thresholds of fitted tree ensembles (scikit-learn, XGBoost and LightGBM)."""

from __future__ import annotations

import numpy as np

from .families import input_categories
from .third_party import lightgbm_booster_of


def final_and_preceding(model):
    """The estimator at the end of (nested) Pipelines, and the (name, step) pairs before it."""
    preceding = []
    while getattr(model, "steps", None):
        preceding.extend(model.steps[:-1])
        model = model.steps[-1][1]
    return model, preceding


def split_thresholds(estimator) -> dict[int, np.ndarray]:
    """Thresholds per input column of ``estimator``, as float64, in the units it compares."""
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    for tree in _sklearn_trees(estimator):
        inner = tree.feature >= 0
        pairs.append((tree.feature[inner], tree.threshold[inner]))
    encoding = input_categories(estimator)
    for predictors in getattr(estimator, "_predictors", []) or []:
        for predictor in predictors:
            nodes = predictor.nodes
            inner = (nodes["is_leaf"] == 0) & (nodes["is_categorical"] == 0)
            features = nodes["feature_idx"][inner]
            if encoding is not None:  # the trees see the input columns reordered
                features = np.asarray(encoding.order, dtype=np.int64)[features]
            pairs.append((features, nodes["num_threshold"][inner]))
    if hasattr(estimator, "get_booster"):
        pairs.extend(_xgboost_thresholds(estimator))
    booster = lightgbm_booster_of(estimator)
    if booster is not None:
        pairs.append(_lightgbm_thresholds(booster))
    found: dict[int, list] = {}
    for features, values in pairs:
        for j, t in zip(features.tolist(), values.tolist()):
            found.setdefault(int(j), []).append(t)
    return {j: np.unique(np.asarray(v, dtype=np.float64)) for j, v in found.items()}


def _sklearn_trees(estimator):
    if hasattr(estimator, "tree_"):
        yield estimator.tree_
    members = getattr(estimator, "estimators_", None)
    if members is None:
        return
    for member in np.ravel(np.asarray(members, dtype=object)):
        if hasattr(member, "tree_"):
            yield member.tree_


def _xgboost_thresholds(estimator):
    frame = xgboost_splits(estimator)
    frame = frame[frame["Category"].isna()]
    if frame.empty:
        return
    yield frame["Feature"].to_numpy(dtype=np.int64), frame["Split"].to_numpy(dtype=np.float64)


def xgboost_splits(estimator):
    """The split nodes of an XGBoost model (trees_to_dataframe), each feature by its index."""
    booster = estimator.get_booster().copy()
    booster.feature_names = None  # the dump then says f0, f1, ...: no name is ever parsed
    booster.feature_types = None  # and a bool column's indicator split ("[f9]") as the number split it is ("[f9<1]")
    frame = booster.trees_to_dataframe()
    frame = frame[frame["Feature"] != "Leaf"].copy()
    frame["Feature"] = frame["Feature"].map(lambda n: int(n[1:]))
    return frame


def xgboost_nan_split(estimator) -> tuple[int, int] | None:
    """(tree, node) of the first numeric split whose threshold is not a number, or None."""
    frame = xgboost_splits(estimator)
    bad = frame[frame["Category"].isna() & frame["Split"].isna()]
    return None if bad.empty else (int(bad["Tree"].iloc[0]), int(bad["Node"].iloc[0]))


def lightgbm_nodes(booster):
    """Every split node of a LightGBM booster, as dump_model() describes it."""
    for tree in booster.dump_model()["tree_info"]:
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "split_feature" in node:
                yield node
                stack.extend((node["left_child"], node["right_child"]))


def _lightgbm_thresholds(booster):
    splits = [(n["split_feature"], n["threshold"]) for n in lightgbm_nodes(booster) if n["decision_type"] == "<="]
    features = np.asarray([f for f, _ in splits], dtype=np.int64)
    return features, np.asarray([float(t) for _, t in splits], dtype=np.float64)


def lightgbm_categories(booster) -> dict[int, set[int]]:
    """Features LightGBM splits on as categories, with the category codes its splits name."""
    found: dict[int, set[int]] = {}
    for node in lightgbm_nodes(booster):
        if node["decision_type"] == "==":
            codes = {int(c) for c in str(node["threshold"]).split("||") if c}
            found.setdefault(int(node["split_feature"]), set()).update(codes)
    return found

"""XGBoost models: XGBClassifier and XGBRegressor, and native Boosters (.json/.ubj files,
pickles) wrapped as the one of them their objective says.

XGBoost casts its input to float32 before comparing it with a threshold; onnxmltools' converter
writes its trees, registered with skl2onnx here."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

import numpy as np

from ...runtime.text import first_line
from ..errors import LoadError, UnsupportedModel
from .base import (  # noqa: F401  the defaults of the Family interface
    fix_graph,
    fix_thresholds,
    no_categories as categories,
    no_exact_trees as exact_trees,
    no_numeric_categories as numeric_categories,
    register_converter,
)

NAME = "XGBoost"
SUFFIXES = (".json", ".ubj")
SKOPS_TYPES = ("xgboost.",)
ESTIMATORS = ("XGBClassifier", "XGBRegressor")
CLASSIFIER_OBJECTIVES = ("binary:", "multi:")
REGRESSOR_OBJECTIVES = ("reg:", "count:")


def owns(estimator) -> bool:
    return hasattr(estimator, "get_booster")


def compares_in_float32(estimator) -> bool:
    return type(estimator).__name__ in ESTIMATORS


def load_file(path: Path):
    import xgboost

    from .. import native_files

    native_files.check("xgboost", path)
    try:
        booster = xgboost.Booster(model_file=str(path))
    except xgboost.core.XGBoostError as err:
        raise LoadError(
            f"model file {path}: not a readable XGBoost model ({first_line(err)})"
        ) from err
    return booster_to_estimator(booster)


def wrap(obj):
    if type(obj).__name__ == "Booster" and type(obj).__module__.startswith("xgboost"):
        return booster_to_estimator(obj)
    return None


def booster_to_estimator(booster):
    """Wrap a raw XGBoost Booster in XGBClassifier/XGBRegressor according to its objective."""
    import xgboost

    objective = xgboost_objective(booster)
    if objective.startswith(CLASSIFIER_OBJECTIVES):
        estimator = xgboost.XGBClassifier()
    elif objective.startswith(REGRESSOR_OBJECTIVES):
        estimator = xgboost.XGBRegressor()
    else:
        raise UnsupportedModel(
            f"XGBoost objective {objective!r} is not supported; supported objectives start with "
            f"{', '.join(CLASSIFIER_OBJECTIVES + REGRESSOR_OBJECTIVES)}"
        )
    estimator.load_model(bytearray(booster.save_raw(raw_format="json")))
    return estimator


def xgboost_objective(booster) -> str:
    config = json.loads(booster.save_config())
    return config["learner"]["objective"]["name"]


@cache  # once per process
def register() -> None:
    try:
        from xgboost import XGBClassifier, XGBRegressor
    except ImportError:
        return
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost

    register_converter(XGBClassifier, XGBRegressor, "XGBoost", convert_xgboost)


def check(estimator, preceding: list) -> None:
    if type(estimator).__name__ not in ESTIMATORS:
        return
    objective = estimator.get_params().get("objective") or ""
    if not isinstance(objective, str):
        raise UnsupportedModel("XGBoost model with a custom objective function has no ONNX form")
    if objective.startswith(("rank:", "survival:")) or objective in (
        "reg:quantileerror", "multi:softmax", "binary:hinge", "binary:logitraw"
    ):
        raise UnsupportedModel(
            f"XGBoost objective {objective!r} has no faithful ONNX conversion; supported: "
            "binary:logistic, multi:softprob, reg:squarederror and other reg:/count: objectives "
            "that parity confirms"
        )
    _refuse_sparse_before(preceding)
    nan_split = xgboost_nan_split(estimator)
    if nan_split is not None:
        raise UnsupportedModel(f"XGBoost tree {nan_split[0]}, node {nan_split[1]}: the split threshold is not a "
                               "number (NaN), which no training writes; the model file was damaged or edited")


def _refuse_sparse_before(preceding) -> None:
    for name, step in preceding:
        if _emits_sparse(step):
            raise UnsupportedModel(
                f"step {name!r} feeds a sparse matrix to XGBoost, which then reads zeros as "
                "missing values; ONNX cannot reproduce that. Refit with "
                "OneHotEncoder(sparse_output=False) or ColumnTransformer(sparse_threshold=0)"
            )


def _emits_sparse(step) -> bool:
    if getattr(step, "sparse_output_", False):
        return True
    if type(step).__name__ == "OneHotEncoder" and getattr(step, "sparse_output", False):
        return True
    if getattr(step, "steps", None):
        return any(_emits_sparse(s) for _, s in step.steps)
    return False


def prepare(model):
    """A copy whose XGBoost booster names features f0, f1, ...: onnxmltools reads no other names.

    Features reach the booster by position either way, so this changes no prediction.
    """
    from ..steps import final_and_preceding

    final, _ = final_and_preceding(model)
    if not hasattr(final, "get_booster") or not final.get_booster().feature_names:
        return model
    model = copy.deepcopy(model)
    final, _ = final_and_preceding(model)
    booster = final.get_booster()
    booster.feature_names = None
    booster.feature_types = None
    return model


def thresholds(estimator):
    frame = xgboost_splits(estimator)
    frame = frame[frame["Category"].isna()]
    if frame.empty:
        return []
    return [(frame["Feature"].to_numpy(dtype=np.int64), frame["Split"].to_numpy(dtype=np.float64))]


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

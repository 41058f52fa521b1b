"""Turn a fitted estimator into an ONNX model with skl2onnx (and onnxmltools for XGBoost and LightGBM)."""

from __future__ import annotations

import copy
import re

import numpy as np

from ..runtime.schema import NULL_STRING
from ..runtime.text import first_line

from . import graph_fixes, kbins, third_party
from .errors import UnsupportedModel
from .families import input_categories, lightgbm
from .families.categories import encode_categories, is_missing
from .schema import Schema, fitted_steps
from .trees import final_and_preceding, xgboost_nan_split

# onnxmltools' XGBoost converter refuses opsets above 15; ai.onnx.ml 3 stores tree
# thresholds as tensors, which double-precision inputs need.
TARGET_OPSET = {"": 15, "ai.onnx.ml": 3}
DTYPES = {"float64": np.float64, "float32": np.float32}

# Estimators that cast their input to float32 before comparing it with split thresholds.
FLOAT32_TREES = (
    "DecisionTreeClassifier", "DecisionTreeRegressor", "RandomForestClassifier",
    "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
    "GradientBoostingClassifier", "GradientBoostingRegressor", "XGBClassifier", "XGBRegressor",
)
# HistGradientBoosting and LightGBM compare in float64: their trees take the float64 input as it
# is, and are written in float64 (convert.families).

def check_supported(model) -> None:
    """Refuse models whose behaviour no ONNX graph can reproduce, before converting."""
    final, preceding = final_and_preceding(model)
    if type(final).__name__ in ("XGBClassifier", "XGBRegressor"):
        objective = final.get_params().get("objective") or ""
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
        _refuse_sparse_before(preceding, "XGBoost")
        nan_split = xgboost_nan_split(final)
        if nan_split is not None:
            raise UnsupportedModel(f"XGBoost tree {nan_split[0]}, node {nan_split[1]}: the split threshold is not a "
                                   "number (NaN), which no training writes; the model file was damaged or edited")
    booster = third_party.lightgbm_booster_of(final)
    if booster is not None:
        third_party.check_lightgbm(final, booster, preceding)
    categories = input_categories(final)
    if categories is not None and categories.strings() and preceding:
        raise UnsupportedModel(
            f"{type(final).__name__} reads text categories that reach it through step {preceding[-1][0]!r}; "
            "encode them in the model (an OrdinalEncoder in a ColumnTransformer) and name the encoded "
            "columns in categorical_features"
        )


def _refuse_sparse_before(preceding, estimator: str) -> None:
    for name, step in preceding:
        if _emits_sparse(step):
            raise UnsupportedModel(
                f"step {name!r} feeds a sparse matrix to {estimator}, which then reads zeros as "
                "missing values; ONNX cannot reproduce that. Refit with "
                "OneHotEncoder(sparse_output=False) or ColumnTransformer(sparse_threshold=0)"
            )


GRAPH_NAME = "lambda_tabular"


def to_onnx(model, schema: Schema, dtype: str):
    """Convert ``model`` taking numeric inputs of ``dtype`` ("float64" or "float32")."""
    third_party.register()
    kbins.register()
    prepared = _linear_svc_as_ridge(_without_flattened_votes(_without_xgboost_feature_names(model)))
    prepared = _text_nulls_read_null_string(prepared)
    if dtype == "float64":
        prepared = _cast_before_float32_trees(prepared)
    options = {id(prepared): {"zipmap": False}} if schema.task == "classification" else None
    categories, by_column = _categorical_inputs(model, schema)
    types = [("X", _number_type(dtype)([None, len(schema.features)]))] if by_column else initial_types(schema, dtype)
    try:
        try:
            onx = _convert(prepared, types, options)
        except Exception as err:  # a classifier whose converter has no zipmap: its outputs are tensors already
            if options is None or "Option 'zipmap' not in" not in str(err):
                raise
            onx = _convert(prepared, types, None)
    except Exception as err:  # skl2onnx raises bare RuntimeError/TypeError/... for gaps
        raise UnsupportedModel(_describe_conversion_error(err)) from err
    if categories is not None:
        inputs = {f.name: i for i, f in enumerate(schema.features)} if by_column else None
        encode_categories(onx, categories, inputs)
    booster = third_party.lightgbm_booster_of(final_and_preceding(model)[0])
    categorical = lightgbm.categorical_features(booster) if booster is not None else []
    if categorical:
        lightgbm.truncate_categories(onx, categorical, booster.num_feature())
    graph_fixes.drop_unused_initializers(onx)
    if dtype == "float64":  # first: the fixes below ask onnxruntime the types the graph computes
        graph_fixes.double_imputers(onx, model)
    graph_fixes.lightgbm_thresholds(onx, model)
    graph_fixes.round_thresholds_down(onx, model)
    return onx


def _convert(prepared, types: list, options):
    from skl2onnx import convert_sklearn

    return convert_sklearn(
        prepared,
        name=GRAPH_NAME,  # skl2onnx's default is a random uuid: the same model would give other bytes
        initial_types=types,
        options=options,
        target_opset=TARGET_OPSET,
    )


def _categorical_inputs(model, schema: Schema):
    """The final estimator's own categorical encoding, and whether it reads the model's inputs
    column by column (it is the model's first step and takes text)."""
    categories = input_categories(final_and_preceding(model)[0])
    return categories, categories is not None and bool(categories.strings()) and schema.by_column


def _number_type(dtype: str):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    return DoubleTensorType if dtype == "float64" else FloatTensorType


def initial_types(schema: Schema, dtype: str) -> list:
    from skl2onnx.common.data_types import StringTensorType

    number = _number_type(dtype)
    if not schema.by_column:
        return [("X", number([None, len(schema.features)]))]
    return [
        (f.name, StringTensorType([None, 1]) if f.kind == "string" else number([None, 1]))
        for f in schema.features
    ]


def _cast_before_float32_trees(model):
    """Same model, with the float64 -> float32 cast that tree estimators do made explicit.

    scikit-learn and XGBoost trees compare float32 inputs with their thresholds. Given
    float64 inputs, the ONNX graph then computes the preprocessing in float64, exactly as
    scikit-learn does, and casts just before the trees.
    """
    from sklearn.pipeline import Pipeline
    from skl2onnx.sklapi import CastTransformer

    final, _ = final_and_preceding(model)
    if type(final).__name__ not in FLOAT32_TREES:
        return model
    cast = ("cast_float32", CastTransformer(dtype=np.float32).fit(np.zeros((1, 1))))
    if isinstance(model, Pipeline) and model.steps[-1][1] is final:
        return Pipeline(model.steps[:-1] + [cast, model.steps[-1]])
    if model is final:
        return Pipeline([cast, ("model", model)])
    return model


def _without_xgboost_feature_names(model):
    """A copy whose XGBoost booster names features f0, f1, ...: onnxmltools reads no other names.

    Features reach the booster by position either way, so this changes no prediction.
    """
    final, _ = final_and_preceding(model)
    if not hasattr(final, "get_booster") or not final.get_booster().feature_names:
        return model
    model = copy.deepcopy(model)
    final, _ = final_and_preceding(model)
    booster = final.get_booster()
    booster.feature_names = None
    booster.feature_types = None
    return model


def _without_flattened_votes(model):
    """A copy whose VotingClassifiers have flatten_transform=False, which skl2onnx requires.

    The flag shapes only VotingClassifier.transform(), never predict or predict_proba."""
    from sklearn.ensemble import VotingClassifier

    paths = [key for key, value in [("", model), *model.get_params(deep=True).items()]
             if isinstance(value, VotingClassifier) and value.flatten_transform]
    if not paths:
        return model
    model = copy.deepcopy(model)
    model.set_params(**{(f"{key}__" if key else "") + "flatten_transform": False for key in paths})
    return model


def _text_nulls_read_null_string(model):
    """A copy in which the runtime's null (NULL_STRING) is what every step on text takes for a
    missing value: SimpleImputers look for it, and encoders that learned None or NaN as a
    category know it by that string. skl2onnx converts an imputer on text only when its missing
    value is a string, and an encoder's category only as a string."""
    if not any(_imputes_text(step) or _text_null_categories(step) for step in fitted_steps(model)):
        return model
    model = copy.deepcopy(model)
    for step in fitted_steps(model):
        if _imputes_text(step):
            step.missing_values = NULL_STRING
        for j in _text_null_categories(step):
            categories = step.categories_[j].copy()
            categories[[is_missing(c) for c in categories]] = NULL_STRING
            step.categories_[j] = categories
    return model


def _imputes_text(step) -> bool:
    if type(step).__name__ != "SimpleImputer" or getattr(step, "statistics_", None) is None:
        return False
    return step.statistics_.dtype.kind in "OUS" and is_missing(step.missing_values)


def _text_null_categories(step) -> list[int]:
    """The columns whose text categories, as ``step`` learned them, include None or NaN."""
    found = getattr(step, "categories_", None) or []
    return [j for j, values in enumerate(found) if values.dtype.kind == "O" and any(is_missing(c) for c in values)]


def _linear_svc_as_ridge(model):
    """LinearSVC at the end of a Pipeline, which skl2onnx cannot convert (it asks LinearSVC's
    converter for a ZipMap option it lacks), as the RidgeClassifier of the same coefficients:
    both answer argmax(X @ coef.T + intercept), and the parity gate checks it."""
    from sklearn.linear_model import RidgeClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    if not isinstance(model, Pipeline) or type(model.steps[-1][1]) is not LinearSVC:
        return model
    svc = model.steps[-1][1]
    ridge = RidgeClassifier()
    ridge.coef_, ridge.intercept_, ridge.classes_ = svc.coef_, svc.intercept_, svc.classes_
    ridge.n_features_in_ = svc.n_features_in_
    return Pipeline(model.steps[:-1] + [(model.steps[-1][0], ridge)])


def _emits_sparse(step) -> bool:
    if getattr(step, "sparse_output_", False):
        return True
    if type(step).__name__ == "OneHotEncoder" and getattr(step, "sparse_output", False):
        return True
    if getattr(step, "steps", None):
        return any(_emits_sparse(s) for _, s in step.steps)
    return False


def _describe_conversion_error(err: Exception) -> str:
    text = str(err)
    missing = re.search(r"Unable to find a shape calculator for type '<class '([\w.]+)'>'", text)
    if missing is not None:
        cls = missing.group(1).rsplit(".", 1)[-1]
        return (
            f"no ONNX converter for {cls}; custom transformers and estimators need a converter "
            "registered with skl2onnx.update_registered_converter, or must be removed from the model"
        )
    return f"skl2onnx could not convert the model: {first_line(err)}"

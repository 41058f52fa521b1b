"""Turn a fitted estimator into an ONNX model with skl2onnx, each model family's converter registered
(convert/families)."""

from __future__ import annotations

import copy
import re

import numpy as np

from ..runtime.schema import NULL_STRING
from ..runtime.text import first_line
from . import families, graph_fixes, kbins
from .errors import UnsupportedModel
from .families import family_of, input_categories
from .families.categories import encode_categories, is_missing
from .schema import Schema, fitted_steps
from .steps import final_and_preceding

# onnxmltools' XGBoost converter refuses opsets above 15; ai.onnx.ml 3 stores tree
# thresholds as tensors, which double-precision inputs need.
TARGET_OPSET = {"": 15, "ai.onnx.ml": 3}
DTYPES = {"float64": np.float64, "float32": np.float32}


def check_supported(model) -> None:
    """Refuse models whose behaviour no ONNX graph can reproduce, before converting."""
    final, preceding = final_and_preceding(model)
    family_of(final).check(final, preceding)
    categories = input_categories(final)
    if categories is not None and categories.strings() and preceding:
        raise UnsupportedModel(
            f"{type(final).__name__} reads text categories that reach it through step {preceding[-1][0]!r}; "
            "encode them in the model (an OrdinalEncoder in a ColumnTransformer) and name the encoded "
            "columns in categorical_features"
        )


GRAPH_NAME = "lambda_tabular"


def to_onnx(model, schema: Schema, dtype: str):
    """Convert ``model`` taking numeric inputs of ``dtype`` ("float64" or "float32")."""
    families.register()
    kbins.register()
    family = family_of(final_and_preceding(model)[0])
    prepared = family.prepare(_without_flattened_votes(model))
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
    family.fix_graph(onx, model)
    graph_fixes.drop_unused_initializers(onx)
    if dtype == "float64":  # first: the fixes below ask onnxruntime the types the graph computes
        graph_fixes.double_imputers(onx, model)
    if not family.fix_thresholds(onx, model):
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

    scikit-learn's, XGBoost's and CatBoost's trees compare float32 inputs with their thresholds. Given
    float64 inputs, the ONNX graph then computes the preprocessing in float64, exactly as
    scikit-learn does, and casts just before the trees.
    """
    from skl2onnx.sklapi import CastTransformer
    from sklearn.pipeline import Pipeline

    final, _ = final_and_preceding(model)
    if not family_of(final).compares_in_float32(final):
        return model
    cast = ("cast_float32", CastTransformer(dtype=np.float32).fit(np.zeros((1, 1))))
    if isinstance(model, Pipeline) and model.steps[-1][1] is final:
        return Pipeline(model.steps[:-1] + [cast, model.steps[-1]])
    if model is final:
        return Pipeline([cast, ("model", model)])
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

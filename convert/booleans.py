"""Which features were trained from bool columns.

scikit-learn records no input dtypes, so the answer comes from what is recorded elsewhere: an
MLflow signature's column types ("boolean"), then an XGBoost booster's feature types ("i", an
indicator, is what XGBoost records for a pandas bool column). Where neither records a feature,
a --sample CSV column holding only true and false, or --boolean, makes it boolean.
"""

from __future__ import annotations

from .errors import InputError
from .sample import boolean_columns
from .schema import Schema
from .steps import final_and_preceding

MLFLOW_BOOLEAN = "boolean"
XGBOOST_BOOLEAN = "i"


def mark(schema: Schema, model, column_types: dict[str, str] | None, named: list[str] | None, sample) -> None:
    """Type as "boolean" the number features that were trained from bool columns."""
    named = list(named or ())
    _check_named(schema, named)
    recorded = {**_xgboost_types(model), **_mlflow_types(column_types)}
    from_sample = boolean_columns(sample) if sample is not None else set()
    for feature in schema.features:
        if feature.kind != "number":
            continue
        if feature.name in recorded:
            kind, where, boolean = recorded[feature.name]
            if feature.name in named and not boolean:
                raise InputError(f"--boolean {feature.name}: {where} records {feature.name} as {kind}, not boolean")
        else:
            boolean = feature.name in named or feature.name in from_sample
        if boolean:
            feature.kind = "boolean"


def _check_named(schema: Schema, named: list[str]) -> None:
    kinds = {f.name: f.kind for f in schema.features}
    for name in named:
        if name not in kinds:
            raise InputError(f"--boolean {name}: not a feature of the model; its features are {', '.join(schema.names)}")
        if kinds[name] == "string":
            raise InputError(f"--boolean {name}: the model reads {name} as strings (its encoder was fitted on text)")


def _mlflow_types(column_types: dict[str, str] | None) -> dict[str, tuple[str, str, bool]]:
    """name -> (type, where it is recorded, whether it is boolean), from an MLflow signature."""
    return {
        name: (kind, "the MLflow signature", kind == MLFLOW_BOOLEAN)
        for name, kind in (column_types or {}).items()
    }


def _xgboost_types(model) -> dict[str, tuple[str, str, bool]]:
    """The same from an XGBoost model's booster, when it takes the model's input as it is."""
    final, preceding = final_and_preceding(model)
    if preceding or not hasattr(final, "get_booster"):
        return {}
    booster = final.get_booster()
    names, types = booster.feature_names, booster.feature_types
    if not names or not types:
        return {}
    return {
        name: (repr(kind), "the XGBoost model", kind == XGBOOST_BOOLEAN)
        for name, kind in zip(names, types, strict=True)
    }

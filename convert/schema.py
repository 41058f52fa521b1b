"""Work out what a fitted model takes as input and what it answers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import InputError, UnsupportedModel
from .families import input_categories
from .families.categories import is_missing


@dataclass(eq=False)
class Feature:
    name: str
    kind: str  # "number", "string" or "boolean" (trained from a bool column; ONNX takes it as 0 or 1)
    nullable: bool = False
    categories: list = field(default_factory=list)  # known values: of a string feature, or of a number read as a category
    closed: bool = False  # the model refuses values outside ``categories``

    def to_json(self) -> dict:
        out = {"name": self.name, "type": self.kind, "nullable": self.nullable}
        if self.closed:
            out["categories"] = self.categories
        return out


@dataclass
class Schema:
    task: str  # "classification", "regression" or "anomaly"
    features: list[Feature]
    classes: list | None
    by_column: bool  # ONNX takes one input per column (named) rather than one matrix
    # What the served numbers are: "probabilities" or "decision_function" (classifiers; None when
    # the model only votes), "decision_function" (anomaly: below 0 is an outlier), "prediction".
    scores: str | None = "prediction"

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]


def schema_of(model, feature_names: list[str] | None = None) -> Schema:
    from sklearn.base import is_classifier, is_outlier_detector, is_regressor

    if is_classifier(model):
        task = "classification"
    elif is_regressor(model):
        task = "regression"
    elif is_outlier_detector(model):
        task = "anomaly"
    else:
        raise UnsupportedModel(
            f"{type(model).__name__} is neither a classifier, a regressor nor an outlier detector; "
            "the converter serves those (optionally inside a Pipeline)"
        )
    names = _feature_names(model, feature_names)
    strings = _string_columns(model, names)
    features = [
        Feature(n, "string" if n in strings else "number", categories=strings.get(n, []))
        for n in names
    ]
    for j, values in _numeric_categories(model).items():
        features[j].categories = [float(v) for v in values]
    classes = [_plain(c) for c in model.classes_] if task == "classification" else None
    if classes is not None and len(classes) < 2:
        raise UnsupportedModel(f"{type(model).__name__} was fitted on a single class {classes}")
    odd = classes and next((c for c in classes if type(c) in (float, bool)), None)
    if odd is not None:
        kind = "boolean" if type(odd) is bool else "floating-point"
        raise UnsupportedModel(
            f"{type(model).__name__} was fitted on {kind} class labels ({', '.join(map(repr, classes[:4]))}); ONNX "
            "labels are integers or strings, so its answers would not be these: refit with integer or string "
            "labels (y.astype(int) or y.astype(str))"
        )
    by_column = bool(strings) or any(
        hasattr(step, "feature_names_in_") for step in _column_transformers(model)
    )
    return Schema(task, features, classes, by_column, served_scores(model, task))


def served_scores(model, task: str) -> str | None:
    """The numbers served beside a label: probabilities where the model has them."""
    if task == "regression":
        return "prediction"
    if task == "anomaly":
        if not (hasattr(model, "predict") and hasattr(model, "decision_function")):
            raise UnsupportedModel(
                f"{type(model).__name__} cannot score new rows (for LocalOutlierFactor, fit it with novelty=True)"
            )
        return "decision_function"
    if hasattr(model, "predict_proba"):
        return "probabilities"
    if hasattr(model, "decision_function"):
        return "decision_function"
    return None


def _feature_names(model, given: list[str] | None) -> list[str]:
    count = getattr(model, "n_features_in_", None)
    trained = getattr(model, "feature_names_in_", None)
    trained = [str(n) for n in trained] if trained is not None else None
    if count is None:
        raise UnsupportedModel(f"{type(model).__name__} does not record how many features it takes")
    if given is None:
        if trained is not None:
            _check_trained_names(trained)
        return trained or [f"f{i}" for i in range(count)]
    if len(given) != count:
        raise InputError(f"--features names {len(given)} features but the model takes {count}")
    if len(set(given)) != len(given):
        raise InputError("--features repeats a name; each feature needs its own name")
    if trained is not None and given != trained:
        if sorted(given) == sorted(trained):
            raise InputError(
                "--features lists the model's features in another order than it was trained with; "
                f"the trained order is {','.join(trained)}"
            )
        raise InputError(
            f"--features {','.join(given)} differ from the names the model was trained with: "
            f"{','.join(trained)}"
        )
    return list(given)


def _check_trained_names(names: list[str]) -> None:
    """The names the model file carries become model.json's features: each must be one the
    runtime accepts, a non-empty name of its own."""
    for i, name in enumerate(names):
        if not name.strip():
            raise InputError(f"the model's feature name at column {i} is empty; retrain with a name for every column")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(f"the model's feature name at column {i} is not valid Unicode; retrain with plain names") from None
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise InputError(
                f"the model's feature names repeat {name!r} (columns {seen[name]} and {i}), so requests could not "
                "tell them apart; retrain with a distinct name for every column"
            )
        seen[name] = i


def _is_column_transformer(step) -> bool:
    from sklearn.compose import ColumnTransformer

    return isinstance(step, ColumnTransformer)


def _column_transformers(model):
    for step in fitted_steps(model):
        if _is_column_transformer(step):
            yield step


def fitted_steps(model):
    """Every fitted estimator inside ``model``, depth first, the model itself included."""
    yield model
    steps = getattr(model, "steps", None)
    if steps is not None:
        for _, step in steps:
            yield from fitted_steps(step)
    for _, step, _ in getattr(model, "transformers_", []) or []:
        if not isinstance(step, str):
            yield from fitted_steps(step)


def _string_columns(model, names: list[str]) -> dict[str, list[str]]:
    """Features that reach an encoder fitted on text categories, with the categories seen."""
    strings: dict[str, list[str]] = {}
    for ct in _column_transformers(model):
        for name, step, _ in ct.transformers_:
            if isinstance(step, str):
                continue
            indices = ct._transformer_to_input_indices.get(name, [])
            for position, categories in _encoder_categories(step):
                if position < len(indices) and categories.dtype.kind in "OUS":
                    strings[names[indices[position]]] = _texts(categories)
    first = first_step(model)
    if _is_column_transformer(first):
        return strings
    found = input_categories(first)
    if found is not None:
        strings.update({names[j]: values for j, values in found.strings().items()})
    for position, categories in _encoder_categories(first):
        if categories.dtype.kind in "OUS":
            strings[names[position]] = _texts(categories)
    return strings


def _texts(categories: np.ndarray) -> list[str]:
    """An encoder's text categories; None and NaN among them are the runtime's null, not text."""
    return [str(c) for c in categories if not is_missing(c)]


def _numeric_categories(model) -> dict[int, np.ndarray]:
    """Input columns the model reads as categories given as numbers, with the values it knows."""
    from .families import family_of

    first = first_step(model)
    found = input_categories(first)
    if found is not None:
        return {j: values for j, values in found.columns.items() if values.dtype.kind in "fiub"}
    return family_of(first).numeric_categories(first)


def first_step(model):
    while getattr(model, "steps", None):
        model = model.steps[0][1]
    return model


def _encoder_categories(step):
    """(input position, categories) for the first encoder inside ``step``.

    Steps before the encoder (imputers) keep the column order, so positions hold.
    """
    for inner in fitted_steps(step):
        if getattr(inner, "categories_", None) is not None:
            for position, categories in enumerate(inner.categories_):
                yield position, np.asarray(categories)
            return


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value

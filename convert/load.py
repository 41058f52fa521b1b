"""Read a trained model from disk: joblib/pickle files and native XGBoost and LightGBM files."""

from __future__ import annotations

import json
from pathlib import Path

from . import third_party
from .errors import LoadError, UnsupportedModel

XGBOOST_SUFFIXES = {".json", ".ubj"}
LIGHTGBM_SUFFIXES = {".txt", ".lgb", ".lgbm"}  # Booster.save_model's text format
CLASSIFIER_OBJECTIVES = ("binary:", "multi:")
REGRESSOR_OBJECTIVES = ("reg:", "count:")


def load_model(path: Path):
    """Return a fitted scikit-learn-compatible estimator read from ``path``.

    Pickle and joblib files run code when they are read: load only files you trust.
    This happens at build time only, never in Lambda.
    """
    if not path.is_file():
        raise LoadError(f"model file {path}: no such file")
    if path.suffix.lower() in XGBOOST_SUFFIXES:
        return _load_xgboost_file(path)
    if path.suffix.lower() in LIGHTGBM_SUFFIXES:
        return _load_lightgbm_file(path)
    model = _unpickle(path)
    if _is_booster(model):
        model = booster_to_estimator(model)
    elif third_party.is_lightgbm_booster(model):
        model = third_party.lightgbm_booster_estimator(model)
    if not (hasattr(model, "fit") and hasattr(model, "predict")):
        raise LoadError(
            f"model file {path}: holds a {type(model).__name__}, not a scikit-learn estimator, "
            "Pipeline, XGBoost or LightGBM model"
        )
    _check_fitted(model, path)
    return model


def _unpickle(path: Path):
    import joblib

    try:
        return joblib.load(path)
    except (ModuleNotFoundError, AttributeError) as err:
        raise LoadError(
            f"model file {path}: needs code that is not installed ({_first_line(err)}); "
            "custom classes must be importable at build time, and have no ONNX converter"
        ) from err
    except Exception as err:  # unpickling junk raises anything from EOFError to struct.error
        raise LoadError(
            f"model file {path}: not a readable joblib/pickle file ({_first_line(err)}); "
            "expected joblib/pickle, XGBoost .json/.ubj or LightGBM .txt"
        ) from err


def _load_xgboost_file(path: Path):
    import xgboost

    try:
        booster = xgboost.Booster(model_file=str(path))
    except xgboost.core.XGBoostError as err:
        raise LoadError(
            f"model file {path}: not a readable XGBoost model ({_first_line(err)})"
        ) from err
    return booster_to_estimator(booster)


def _load_lightgbm_file(path: Path):
    try:
        import lightgbm
    except (ImportError, OSError) as err:
        raise LoadError(f"model file {path}: a LightGBM model needs lightgbm at build time ({_first_line(err)})") from err
    try:
        booster = lightgbm.Booster(model_file=str(path))
    except lightgbm.basic.LightGBMError as err:
        raise LoadError(
            f"model file {path}: not a readable LightGBM model ({_first_line(err)}); "
            "expected the text format of Booster.save_model"
        ) from err
    return third_party.lightgbm_booster_estimator(booster)


def _is_booster(obj) -> bool:
    return type(obj).__name__ == "Booster" and type(obj).__module__.startswith("xgboost")


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


def _check_fitted(model, path: Path) -> None:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError as err:
        raise LoadError(f"model file {path}: the {type(model).__name__} is not fitted") from err
    except TypeError:
        pass


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__

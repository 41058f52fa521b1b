"""Read a trained model from disk: joblib/pickle and skops files, native XGBoost and LightGBM
files, and MLflow model directories."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import environments, mlflow_model, native_files, third_party
from .environments import PICKLE_SUFFIXES, pickled_sklearn_version
from ..runtime.text import first_line
from .errors import LoadError, UnsupportedModel

XGBOOST_SUFFIXES = {".json", ".ubj"}
LIGHTGBM_SUFFIXES = {".txt", ".lgb", ".lgbm"}  # Booster.save_model's text format
SKOPS_SUFFIX = ".skops"
# Types a skops file may hold: these libraries' own. skops rebuilds them without running code
# from the file; anything else is refused by name.
SKOPS_ALLOWED = ("sklearn.", "xgboost.", "lightgbm.", "numpy.", "scipy.sparse.", "builtins.", "collections.")
CLASSIFIER_OBJECTIVES = ("binary:", "multi:")
REGRESSOR_OBJECTIVES = ("reg:", "count:")


@dataclass
class Loaded:
    model: object
    file: Path  # the file the model was read from (an MLflow directory's model file)
    trained_with: dict[str, str]  # library -> the version that saved the model, where the file says
    signature: list[str] | None = None  # an MLflow signature's feature names
    column_types: dict[str, str] | None = None  # an MLflow signature's feature types, by name


def load_model(path: Path):
    """Return a fitted scikit-learn-compatible estimator read from ``path``.

    Pickle and joblib files run code when they are read: load only files you trust.
    This happens at build time only, never in Lambda.
    """
    return load(path).model


def load(path: Path) -> Loaded:
    """The model at ``path`` and the library versions that saved it: an MLflow model's recorded
    versions, and the scikit-learn version its pickle or skops file was written by."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", _inconsistent_version_warning())
        loaded = _read(path)
    recorded = loaded.trained_with
    for warning in caught:
        original = getattr(warning.message, "original_sklearn_version", None)
        if original and "scikit-learn" not in recorded:
            recorded["scikit-learn"] = str(original)
    if "scikit-learn" not in recorded and loaded.file.suffix.lower() in PICKLE_SUFFIXES:
        saved = pickled_sklearn_version(loaded.file)
        if saved:
            recorded["scikit-learn"] = saved
    return loaded


def _read(path: Path) -> Loaded:
    if mlflow_model.is_mlflow_dir(path):
        found = mlflow_model.read(path)
        skops = found.serialization == "skops" or found.file.suffix.lower() == SKOPS_SUFFIX
        pickled = found.serialization in ("pickle", "cloudpickle") or found.file.suffix.lower() in PICKLE_SUFFIXES
        native = {"xgboost": _load_xgboost_file, "lightgbm": _load_lightgbm_file}.get(found.flavor)
        model = native(found.file) if native is not None and not (skops or pickled) else _load_file(found.file, skops=skops)
        return Loaded(model, found.file, dict(found.versions), found.features, found.column_types)
    if not path.is_file():
        raise LoadError(f"model file {path}: no such file")
    return Loaded(_load_file(path), path, {})


def _inconsistent_version_warning():
    from sklearn.exceptions import InconsistentVersionWarning

    return InconsistentVersionWarning


def _load_file(path: Path, skops: bool = False):
    if path.suffix.lower() in XGBOOST_SUFFIXES:
        return _load_xgboost_file(path)
    if path.suffix.lower() in LIGHTGBM_SUFFIXES:
        return _load_lightgbm_file(path)
    model = _load_skops(path) if skops or path.suffix.lower() == SKOPS_SUFFIX else _unpickle(path)
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
    _check_trees(model, path)
    return model


def _load_skops(path: Path):
    """A skops file, holding only the allowed libraries' types; nothing in it is executed."""
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as err:  # a corrupt zip or schema raises anything from BadZipFile to KeyError
        raise LoadError(f"model file {path}: not a readable skops file ({first_line(err)})") from err
    refused = sorted(t for t in untrusted if not t.startswith(SKOPS_ALLOWED))
    if refused:
        raise LoadError(
            f"model file {path}: holds types from outside scikit-learn, XGBoost, LightGBM and numpy, "
            f"which are not loaded: {', '.join(refused[:5])}"
        )
    try:
        return sio.load(path, trusted=untrusted)
    except Exception as err:
        raise LoadError(f"model file {path}: not a readable skops file ({first_line(err)})") from err


def _check_trees(model, path: Path) -> None:
    """Every scikit-learn tree's nodes point forward to nodes that exist, on features that
    exist: their predict reads node arrays unchecked, so a crafted file could read out of
    bounds or loop."""
    for owner, children, features, n_features in _tree_arrays(model):
        left, right = children
        n = len(left)
        index = np.arange(n)
        inner = left != -1
        sound = (
            len(right) == n and np.array_equal(right != -1, inner)
            and np.all(left[inner] > index[inner]) and np.all(right[inner] > index[inner])
            and np.all(left[inner] < n) and np.all(right[inner] < n)
            and np.all(features[inner] >= 0) and (n_features is None or np.all(features[inner] < n_features))
        )
        if not sound:
            raise LoadError(f"model file {path}: a tree of its {owner} has nodes that point outside the tree")


def _tree_arrays(model):
    """(owner, (left, right), features, n_features) of every scikit-learn tree in ``model``."""
    seen, stack = set(), [model]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        tree = getattr(obj, "tree_", None)
        if tree is not None and hasattr(tree, "children_left"):
            yield type(obj).__name__, (np.asarray(tree.children_left), np.asarray(tree.children_right)), np.asarray(tree.feature), tree.n_features
        for predictors in getattr(obj, "_predictors", None) or []:
            for predictor in predictors:
                nodes = predictor.nodes
                inner = nodes["is_leaf"] == 0
                left = np.where(inner, nodes["left"].astype(np.int64), -1)
                right = np.where(inner, nodes["right"].astype(np.int64), -1)
                features = np.where(inner, nodes["feature_idx"].astype(np.int64), 0)
                yield type(obj).__name__, (left, right), features, getattr(obj, "n_features_in_", None)
        values = list(vars(obj).values()) if hasattr(obj, "__dict__") and hasattr(obj, "get_params") else []
        for value in values:
            items = value if isinstance(value, (list, tuple)) else (value.ravel().tolist() if isinstance(value, np.ndarray) and value.dtype == object else [value])
            for item in items:
                item = item[1] if isinstance(item, tuple) and len(item) >= 2 else item
                if hasattr(item, "get_params") and not isinstance(item, type):
                    stack.append(item)


def _unpickle(path: Path):
    import joblib

    try:
        return joblib.load(path)
    except (ModuleNotFoundError, AttributeError) as err:
        saved = pickled_sklearn_version(path)
        running = environments.running()
        if saved and saved != running:
            raise LoadError(
                f"model file {path}: was saved by scikit-learn {saved}, which this converter's scikit-learn "
                f"{running} cannot read ({first_line(err)}); --sklearn-version {saved} converts it with that release"
            ) from err
        raise LoadError(
            f"model file {path}: needs code that is not installed ({first_line(err)}); "
            "custom classes must be importable at build time, and have no ONNX converter"
        ) from err
    except Exception as err:  # unpickling junk raises anything from EOFError to struct.error
        raise LoadError(
            f"model file {path}: not a readable joblib/pickle file ({first_line(err)}); "
            "expected joblib/pickle, XGBoost .json/.ubj or LightGBM .txt"
        ) from err


def _load_xgboost_file(path: Path):
    import xgboost

    native_files.check("xgboost", path)
    try:
        booster = xgboost.Booster(model_file=str(path))
    except xgboost.core.XGBoostError as err:
        raise LoadError(
            f"model file {path}: not a readable XGBoost model ({first_line(err)})"
        ) from err
    return booster_to_estimator(booster)


def _load_lightgbm_file(path: Path):
    try:
        import lightgbm
    except (ImportError, OSError) as err:
        raise LoadError(f"model file {path}: a LightGBM model needs lightgbm at build time ({first_line(err)})") from err
    native_files.check("lightgbm", path)
    try:
        booster = lightgbm.Booster(model_file=str(path))
    except lightgbm.basic.LightGBMError as err:
        raise LoadError(
            f"model file {path}: not a readable LightGBM model ({first_line(err)}); "
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


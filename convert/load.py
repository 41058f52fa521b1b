"""Read a trained model from disk: joblib/pickle and skops files, the native model files of the
families that have them (convert/families: XGBoost .json/.ubj, LightGBM .txt, CatBoost .cbm),
and MLflow model directories."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..runtime.text import first_line
from . import environments, families, mlflow_model
from .environments import PICKLE_SUFFIXES, pickled_sklearn_version
from .errors import LoadError

SKOPS_SUFFIX = ".skops"
# Types a skops file may hold: these libraries' own (and the families', families.skops_types()).
# skops rebuilds them without running code from the file; anything else is refused by name.
SKOPS_ALLOWED = ("sklearn.", "numpy.", "scipy.sparse.", "builtins.", "collections.")


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
        native = _flavor_family(found.flavor)
        model = native.load_file(found.file) if native is not None and not (skops or pickled) else _load_file(found.file, skops=skops)
        return Loaded(model, found.file, dict(found.versions), found.features, found.column_types)
    if not path.is_file():
        raise LoadError(f"model file {path}: no such file")
    return Loaded(_load_file(path), path, {})


def _inconsistent_version_warning():
    from sklearn.exceptions import InconsistentVersionWarning

    return InconsistentVersionWarning


def _flavor_family(flavor: str):
    """The family whose native files an MLflow flavor of that name writes (xgboost, lightgbm)."""
    return next((f for f in families.FAMILIES if f.SUFFIXES and f.NAME.lower() == flavor), None)


def _load_file(path: Path, skops: bool = False):
    native = families.native_family(path.suffix.lower())
    if native is not None:
        return native.load_file(path)
    model = _load_skops(path) if skops or path.suffix.lower() == SKOPS_SUFFIX else _unpickle(path)
    model = families.wrap(model)
    if not (hasattr(model, "fit") and hasattr(model, "predict")):
        raise LoadError(
            f"model file {path}: holds a {type(model).__name__}, not a scikit-learn estimator, "
            "Pipeline, XGBoost, LightGBM or CatBoost model"
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
    refused = sorted(t for t in untrusted if not t.startswith(SKOPS_ALLOWED + families.skops_types()))
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
            children = (np.asarray(tree.children_left), np.asarray(tree.children_right))
            yield type(obj).__name__, children, np.asarray(tree.feature), tree.n_features
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
            if isinstance(value, (list, tuple)):
                items = value
            elif isinstance(value, np.ndarray) and value.dtype == object:
                items = value.ravel().tolist()
            else:
                items = [value]
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
            "expected joblib/pickle, XGBoost .json/.ubj, LightGBM .txt or CatBoost .cbm"
        ) from err



def _check_fitted(model, path: Path) -> None:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError as err:
        raise LoadError(f"model file {path}: the {type(model).__name__} is not fitted") from err
    except TypeError:
        pass


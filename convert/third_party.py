"""XGBoost and LightGBM inside skl2onnx: their converters (from onnxmltools) registered, and their
native Boosters wrapped as scikit-learn estimators so one code path converts every model."""

from __future__ import annotations

from functools import cached_property

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from .errors import UnsupportedModel

LIGHTGBM_CLASSIFIER_OBJECTIVES = ("binary", "multiclass")
# LightGBM's aliases resolve to these names in a fitted booster's "objective" parameter.
LIGHTGBM_REGRESSOR_OBJECTIVES = ("regression", "regression_l1", "huber", "quantile", "poisson", "gamma", "tweedie")

_registered = False


def register() -> None:
    """Teach skl2onnx the XGBoost and LightGBM estimators that are installed, once."""
    global _registered
    if _registered:
        return
    _register_xgboost()
    _register_lightgbm()
    _registered = True


def _register_xgboost() -> None:
    try:
        from xgboost import XGBClassifier, XGBRegressor
    except ImportError:
        return
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost

    _register(XGBClassifier, XGBRegressor, "XGBoost", convert_xgboost)


def _register_lightgbm() -> None:
    try:
        from lightgbm import LGBMClassifier, LGBMRegressor
    except (ImportError, OSError):  # OSError: lib_lightgbm.so without libgomp
        return
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm

    _register(LGBMClassifier, LGBMRegressor, "LightGbm", convert_lightgbm)
    _register(LightGBMBoosterClassifier, LightGBMBoosterRegressor, "LightGbmBooster", convert_lightgbm)


def _register(classifier, regressor, prefix: str, converter) -> None:
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    update_registered_converter(
        classifier, f"{prefix}{classifier.__name__}", calculate_linear_classifier_output_shapes,
        converter, options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
    )
    update_registered_converter(
        regressor, f"{prefix}{regressor.__name__}", calculate_linear_regressor_output_shapes, converter,
    )


class _LightGBMBooster(BaseEstimator):
    """A native lightgbm.Booster (from a .txt model file or a pickle) as a fitted estimator.

    onnxmltools' converter reads ``booster_``, ``classes_`` and ``boosting_type``; the
    converter's parity checks call predict / predict_proba, which are LightGBM's own."""

    def __init__(self, booster=None):
        self.booster = booster

    @property
    def booster_(self):
        return self.booster

    @property
    def boosting_type(self) -> str:
        return "rf" if self.booster.params.get("boosting") in ("rf", "random_forest") else "gbdt"

    @property
    def n_features_in_(self) -> int:
        return self.booster.num_feature()

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The names the booster was trained with; none when LightGBM made them up (Column_0, ...)."""
        names = self.booster.feature_name()
        if names == [f"Column_{i}" for i in range(len(names))]:
            raise AttributeError("feature_names_in_")
        return np.asarray(names, dtype=object)

    def __sklearn_is_fitted__(self) -> bool:
        return self.booster is not None

    def fit(self, X, y=None):
        raise NotImplementedError("a wrapped LightGBM booster is already trained")

    def _raw(self, X):
        return self.booster.predict(np.asarray(X, dtype=np.float64))


class LightGBMBoosterClassifier(ClassifierMixin, _LightGBMBooster):
    @cached_property
    def classes_(self) -> np.ndarray:
        return np.arange(max(2, _num_class(self.booster)))

    def predict_proba(self, X) -> np.ndarray:
        raw = self._raw(X)
        return np.column_stack([1 - raw, raw]) if raw.ndim == 1 else raw

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class LightGBMBoosterRegressor(RegressorMixin, _LightGBMBooster):
    def predict(self, X) -> np.ndarray:
        return self._raw(X)


def is_lightgbm_booster(obj) -> bool:
    return type(obj).__name__ == "Booster" and type(obj).__module__.startswith("lightgbm")


def lightgbm_booster_estimator(booster):
    """A Booster wrapped as the classifier or regressor its objective says it is."""
    objective = lightgbm_objective(booster)
    if objective in LIGHTGBM_CLASSIFIER_OBJECTIVES:
        return LightGBMBoosterClassifier(booster)
    if objective in LIGHTGBM_REGRESSOR_OBJECTIVES:
        return LightGBMBoosterRegressor(booster)
    raise UnsupportedModel(
        f"LightGBM objective {objective!r} is not supported; supported: "
        f"{', '.join(LIGHTGBM_CLASSIFIER_OBJECTIVES + LIGHTGBM_REGRESSOR_OBJECTIVES)}"
    )


def lightgbm_objective(booster) -> str:
    """The objective's canonical name ("binary", "multiclass", "regression", ...)."""
    objective = booster.dump_model(num_iteration=1).get("objective", "")
    return str(objective).split(" ", 1)[0]


def lightgbm_booster_of(estimator):
    """The Booster of a fitted LGBMClassifier/LGBMRegressor or of a wrapped one, else None."""
    if isinstance(estimator, _LightGBMBooster):
        return estimator.booster
    if type(estimator).__module__.startswith("lightgbm") and hasattr(estimator, "booster_"):
        return estimator.booster_
    return None


def check_lightgbm(final, booster, preceding) -> None:
    """Refuse, before converting, what LightGBM does that ONNX trees cannot, saying what to change."""
    objective = getattr(final, "objective", None)
    if callable(objective):
        raise UnsupportedModel("LightGBM model with a custom objective function has no ONNX form")
    name = lightgbm_objective(booster)
    if name not in LIGHTGBM_CLASSIFIER_OBJECTIVES + LIGHTGBM_REGRESSOR_OBJECTIVES:
        raise UnsupportedModel(
            f"LightGBM objective {name!r} has no faithful ONNX conversion; supported: "
            f"{', '.join(LIGHTGBM_CLASSIFIER_OBJECTIVES + LIGHTGBM_REGRESSOR_OBJECTIVES)}"
        )
    if "rf" in (booster.params.get("boosting"), booster.params.get("boosting_type"), getattr(final, "boosting_type", None)):
        raise UnsupportedModel(
            "LightGBM boosting='rf': onnxmltools' converter does not average its trees as LightGBM does "
            "(the predictions differ); use boosting='gbdt', or scikit-learn's RandomForest"
        )
    if _truthy(booster.params.get("zero_as_missing")):
        raise UnsupportedModel(
            "LightGBM with zero_as_missing=True reads 0 (anything within 1e-35 of it) as missing, "
            "which ONNX trees cannot; retrain with zero_as_missing=False (the default) and NaN for missing values"
        )
    if _truthy(booster.params.get("linear_tree")):
        raise UnsupportedModel("LightGBM with linear_tree=True (linear models in the leaves) has no ONNX converter")


def _truthy(value) -> bool:
    return str(value).lower() in ("true", "1")


def _num_class(booster) -> int:
    return int(booster.dump_model(num_iteration=1).get("num_class", 1))

"""Each supported model kind: converted, served by onnxruntime, compared with the original
on fresh rows the converter never saw.

Tolerances: the converter keeps preprocessing in float64 and feeds trees float32, as
scikit-learn and XGBoost do themselves, so decisions match exactly; what differs is only
the float32 summation of leaf values and float32 sigmoid/softmax, a few ulps per tree.
1e-5, scaled by max(1, |value|), is two orders of magnitude above what we see (about 1e-7)
and four below any difference that matters to a user. Labels must be identical, except
where the original's top two probabilities tie within that tolerance.
"""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import (
    ExtraTreesClassifier, ExtraTreesRegressor, GradientBoostingClassifier,
    GradientBoostingRegressor, HistGradientBoostingClassifier, HistGradientBoostingRegressor,
    RandomForestClassifier, RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier, XGBRegressor

from convert.build import Request, build

from . import onnx_check
from .models import column_transformer, labels, mixed_frame, numeric_data

TOLERANCE = 1e-5
XGB = {"n_estimators": 40, "max_depth": 4, "n_jobs": 1, "random_state": 0}


def numeric(seed, missing=0.0):
    X, signal = numeric_data(seed, missing=missing)
    return X, signal


CASES = {
    # name: (estimator factory, data kind, target kind)
    "logistic_regression": (lambda: LogisticRegression(max_iter=1000), "numeric", 2),
    "logistic_regression_3_classes": (lambda: LogisticRegression(max_iter=1000), "numeric", 3),
    "linear_regression": (LinearRegression, "numeric", 0),
    "ridge": (Ridge, "numeric", 0),
    "random_forest_classifier": (lambda: RandomForestClassifier(40, random_state=0), "numeric", 3),
    "random_forest_regressor": (lambda: RandomForestRegressor(40, random_state=0), "numeric", 0),
    "extra_trees_classifier": (lambda: ExtraTreesClassifier(40, random_state=0), "numeric", 2),
    "extra_trees_regressor": (lambda: ExtraTreesRegressor(40, random_state=0), "numeric", 0),
    "gradient_boosting_classifier": (lambda: GradientBoostingClassifier(n_estimators=60, random_state=0), "numeric", 3),
    "gradient_boosting_regressor": (lambda: GradientBoostingRegressor(n_estimators=60, random_state=0), "numeric", 0),
    "hist_gradient_boosting_classifier": (lambda: HistGradientBoostingClassifier(max_iter=60, random_state=0), "missing", 2),
    "hist_gradient_boosting_classifier_3": (lambda: HistGradientBoostingClassifier(max_iter=60, random_state=0), "missing", 3),
    "hist_gradient_boosting_regressor": (lambda: HistGradientBoostingRegressor(max_iter=60, random_state=0), "missing", 0),
    "imputer_scaler_logistic": (lambda: make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression()), "missing", 2),
    "imputer_scaler_random_forest": (lambda: make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), RandomForestRegressor(30, random_state=0)), "missing", 0),
    "column_transformer_gradient_boosting": (lambda: Pipeline([("prep", column_transformer()), ("model", GradientBoostingClassifier(n_estimators=40, random_state=0))]), "mixed", 2),
    "column_transformer_logistic": (lambda: Pipeline([("prep", column_transformer()), ("model", LogisticRegression(max_iter=1000))]), "mixed", 3),
    "column_transformer_ridge": (lambda: Pipeline([("prep", column_transformer()), ("model", Ridge())]), "mixed", 0),
    "xgboost_binary_logistic": (lambda: XGBClassifier(objective="binary:logistic", **XGB), "missing", 2),
    "xgboost_multi_softprob": (lambda: XGBClassifier(objective="multi:softprob", **XGB), "missing", 4),
    "xgboost_reg_squarederror": (lambda: XGBRegressor(objective="reg:squarederror", **XGB), "missing", 0),
    "xgboost_on_dataframe": (lambda: XGBClassifier(**XGB), "frame", 2),
    "scaler_xgboost_pipeline": (lambda: make_pipeline(StandardScaler(), XGBClassifier(**XGB)), "numeric", 2),
    "column_transformer_xgboost": (lambda: Pipeline([("prep", column_transformer()), ("model", XGBClassifier(**XGB))]), "mixed", 3),
    "string_labels": (lambda: RandomForestClassifier(30, random_state=0), "numeric", "strings"),
}


def dataset(kind: str, target, seed: int):
    if kind == "mixed":
        X, signal = mixed_frame(seed)
    else:
        X, signal = numeric_data(seed, missing=0.1 if kind == "missing" else 0.0)
        if kind == "frame":
            X = pd.DataFrame(X, columns=["ph", "turbidity", "tds", "temperature", "flow"])
    if target == 0:
        y = signal
    elif target == "strings":
        y = np.array(["low", "mid", "high"])[labels(signal, 3)]
    else:
        y = labels(signal, target)
    return X, y


def as_frame(X, names):
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(X, columns=names)


@pytest.mark.parametrize("case", sorted(CASES))
def test_converted_model_predicts_like_the_original(case, tmp_path):
    factory, kind, target = CASES[case]
    X, y = dataset(kind, target, seed=1)
    model = factory().fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")

    metadata = build(Request(tmp_path / "model.joblib", tmp_path / "out"), log=lambda *a: None)
    assert metadata["parity"]["passed"]

    fresh, _ = dataset(kind, target, seed=99)
    names = [f["name"] for f in metadata["features"]]
    frame = as_frame(fresh, names)
    if kind in ("missing", "mixed"):
        refused = metadata["parity"]["missing_values_refused"]
        frame = frame[~frame[refused].isna().any(axis=1)] if refused else frame
    saved, session = onnx_check.load(tmp_path / "out")
    got = onnx_check.predict(saved, session, frame)
    original_input = frame if hasattr(model, "feature_names_in_") else frame.to_numpy()

    if metadata["task"] == "classification":
        expected = model.predict_proba(original_input)
        assert got["probabilities"].shape == expected.shape
        diff = np.abs(got["probabilities"] - expected)
        assert diff.max() <= TOLERANCE, f"max probability difference {diff.max()}"
        top2 = np.sort(expected, axis=1)[:, -2:]
        decided = (top2[:, 1] - top2[:, 0]) > TOLERANCE
        np.testing.assert_array_equal(
            got["label"].ravel()[decided].astype(str), model.predict(original_input)[decided].astype(str)
        )
        assert metadata["classes"] == [c.item() if hasattr(c, "item") else c for c in model.classes_]
    else:
        expected = model.predict(original_input)
        got_values = got["prediction"].reshape(expected.shape)
        scaled = np.abs(got_values - expected) / np.maximum(1.0, np.abs(expected))
        assert scaled.max() <= TOLERANCE, f"max scaled difference {scaled.max()}"


@pytest.mark.parametrize("objective,target,suffix", [
    ("binary:logistic", 2, ".json"),
    ("multi:softprob", 3, ".ubj"),
    ("reg:squarederror", 0, ".json"),
])
def test_native_xgboost_files(objective, target, suffix, tmp_path):
    """Boosters trained with xgboost.train on a DataFrame and saved natively."""
    import xgboost

    X, y = dataset("frame", target, seed=3)
    params = {"objective": objective, "max_depth": 4, "nthread": 1}
    if objective.startswith("multi"):
        params["num_class"] = target
    booster = xgboost.train(params, xgboost.DMatrix(X, label=y), num_boost_round=30)
    path = tmp_path / f"model{suffix}"
    booster.save_model(path)

    metadata = build(Request(path, tmp_path / "out"), log=lambda *a: None)

    assert [f["name"] for f in metadata["features"]] == list(X.columns)
    fresh, _ = dataset("frame", target, seed=98)
    saved, session = onnx_check.load(tmp_path / "out")
    got = onnx_check.predict(saved, session, fresh)
    expected = booster.predict(xgboost.DMatrix(fresh))
    if objective == "binary:logistic":
        np.testing.assert_allclose(got["probabilities"][:, 1], expected, atol=TOLERANCE)
    elif objective == "multi:softprob":
        np.testing.assert_allclose(got["probabilities"], expected, atol=TOLERANCE)
    else:
        np.testing.assert_allclose(got["prediction"].ravel(), expected, atol=TOLERANCE, rtol=TOLERANCE)

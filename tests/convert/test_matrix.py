"""Models saved in their libraries' native formats (XGBoost .json/.ubj, LightGBM text files and
pickled Boosters): converted and compared with the library's own predictions on fresh rows.
Estimators of every family are in the coverage matrix (coverage.py, test_coverage.py).
"""

from __future__ import annotations

import joblib
import numpy as np
import pytest

from lambda_tabular.convert.build import Request, build

from . import onnx_check
from .coverage import dataset

# Each test converts a model file through the converter and its parity gate.
pytestmark = pytest.mark.slow

TOLERANCE = 1e-5


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


@pytest.mark.parametrize("objective,target,save", [
    ("binary", 2, "text"),
    ("multiclass", 3, "text"),
    ("regression", 0, "pickle"),
    ("poisson", 0, "text"),
])
def test_native_lightgbm_boosters(objective, target, save, tmp_path):
    """Boosters trained with lightgbm.train on a DataFrame with missing values: the text model
    file of Booster.save_model, or the Booster pickled."""
    import lightgbm

    X, y = dataset("frame", target, seed=3)
    X.iloc[::7, 1] = np.nan
    if objective == "poisson":
        y = np.abs(y)
    params = {"objective": objective, "num_leaves": 15, "verbose": -1, "num_threads": 1}
    if objective == "multiclass":
        params["num_class"] = target
    booster = lightgbm.train(params, lightgbm.Dataset(X, label=y), num_boost_round=30)
    path = tmp_path / ("model.txt" if save == "text" else "model.joblib")
    booster.save_model(path) if save == "text" else joblib.dump(booster, path)

    metadata = build(Request(path, tmp_path / "out"), log=lambda *a: None)

    assert [f["name"] for f in metadata["features"]] == list(X.columns)
    assert metadata["source"]["estimator"].startswith("LightGBMBooster")
    fresh, _ = dataset("frame", target, seed=98)
    fresh.iloc[::5, 1] = np.nan
    saved, session = onnx_check.load(tmp_path / "out")
    got = onnx_check.predict(saved, session, fresh)
    expected = booster.predict(fresh)
    if objective == "binary":
        np.testing.assert_allclose(got["probabilities"][:, 1], expected, atol=TOLERANCE)
    elif objective == "multiclass":
        np.testing.assert_allclose(got["probabilities"], expected, atol=TOLERANCE)
    else:
        np.testing.assert_allclose(got["prediction"].ravel(), expected, atol=TOLERANCE, rtol=TOLERANCE)


def test_unreadable_lightgbm_text_file_is_one_line(tmp_path):
    from lambda_tabular.convert.errors import LoadError

    path = tmp_path / "model.txt"
    path.write_text("not a model\n")
    with pytest.raises(LoadError, match="not a readable LightGBM model"):
        build(Request(path, tmp_path / "out"), log=lambda *a: None)

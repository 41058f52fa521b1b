"""CatBoost through its family module alone (convert/families/catboost.py): .cbm files and
pickles on scikit-learn's bundled data sets, served where the parity gate holds, refused in one
line where CatBoost's ONNX export cannot write the model."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from lambda_tabular.convert.load import load_model

from .coverage import served_difference
from .test_cli import assert_refused, run

catboost = pytest.importorskip("catboost")

# Each test converts a model file through the converter and its parity gate.
pytestmark = pytest.mark.slow

DATA = {
    "breast_cancer": (load_breast_cancer, catboost.CatBoostClassifier),
    "wine": (load_wine, catboost.CatBoostClassifier),
    "diabetes": (load_diabetes, catboost.CatBoostRegressor),
}


def _fit(name: str, **params):
    loader, estimator = DATA[name]
    X, y = loader(return_X_y=True)
    options = {"iterations": 60, "depth": 4, "random_seed": 0, "verbose": 0, "thread_count": 1,
               "allow_writing_files": False, **params}
    return estimator(**options).fit(X, y), X


def _served(path: Path, tmp_path: Path, rows) -> dict:
    out = tmp_path / "out"
    result = run(path, "--out", out)
    assert result.returncode == 0, result.stderr
    metadata = json.loads((out / "model.json").read_text())
    assert metadata["parity"]["passed"]
    worst, _ = served_difference(load_model(path), metadata, out, rows)
    assert worst <= 1e-4
    return metadata


@pytest.mark.parametrize("name", sorted(DATA))
def test_a_cbm_file_serves_its_real_rows(name, tmp_path):
    model, X = _fit(name)
    model.save_model(str(tmp_path / f"{name}.cbm"))
    metadata = _served(tmp_path / f"{name}.cbm", tmp_path, X)
    assert metadata["source"]["estimator"] == type(model).__name__
    assert metadata["onnx"]["input_dtype"] == "float64"


def test_a_pickled_classifier_with_text_labels_serves(tmp_path):
    X, y = load_breast_cancer(return_X_y=True)
    model = catboost.CatBoostClassifier(iterations=40, depth=4, random_seed=0, verbose=0, thread_count=1,
                                        allow_writing_files=False)
    model.fit(X, np.where(y == 1, "benign", "malignant"))
    joblib.dump(model, tmp_path / "model.joblib")
    metadata = _served(tmp_path / "model.joblib", tmp_path, X)
    assert metadata["classes"] == ["benign", "malignant"]


def test_a_plain_catboost_object_in_a_pickle_serves_as_its_loss_says(tmp_path):
    model, X = _fit("diabetes")
    plain = catboost.CatBoost()
    plain.load_model(blob=model._serialize_model())
    joblib.dump(plain, tmp_path / "model.joblib")
    assert _served(tmp_path / "model.joblib", tmp_path, X)["task"] == "regression"


def test_a_categorical_feature_is_refused_in_one_line(tmp_path):
    data = load_wine(as_frame=True)
    frame = data.data.iloc[:, :4].copy()
    frame["colour"] = np.where(data.data["color_intensity"] > 5, "dark", "light")
    model = catboost.CatBoostClassifier(iterations=20, verbose=0, thread_count=1, allow_writing_files=False,
                                         cat_features=["colour"])
    model.fit(frame, data.target)
    model.save_model(str(tmp_path / "model.cbm"))
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "model.cbm", "--out", out), out, "categorical features (colour)", "ONNX export")


@pytest.mark.parametrize("loss", ["Poisson", "MultiClassOneVsAll"])
def test_a_loss_its_onnx_export_gets_wrong_is_refused(loss, tmp_path):
    name = "wine" if loss.startswith("MultiClass") else "diabetes"
    model, _ = _fit(name, iterations=10, loss_function=loss)
    model.save_model(str(tmp_path / "model.cbm"))
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "model.cbm", "--out", out), out, f"CatBoost loss {loss!r} is not supported")


def test_a_damaged_cbm_file_is_refused_in_one_line(tmp_path):
    model, _ = _fit("breast_cancer", iterations=5)
    model.save_model(str(tmp_path / "model.cbm"))
    data = (tmp_path / "model.cbm").read_bytes()
    (tmp_path / "damaged.cbm").write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "damaged.cbm", "--out", out), out, "CatBoost")


def test_catboost_after_a_scaler_in_a_pipeline_serves(tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), catboost.CatBoostClassifier(iterations=30, depth=4, verbose=0,
                                                                         random_seed=0, thread_count=1,
                                                                         allow_writing_files=False))
    model.fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")
    _served(tmp_path / "model.joblib", tmp_path, pd.DataFrame(X))


def test_every_family_provides_the_interface():
    from lambda_tabular.convert import families

    assert all(isinstance(family, families.Family) for family in families.FAMILIES)
    assert families.FAMILIES[-1].owns(object())

"""Converted models for the runtime tests, built once per session with the real converter.

- water: a native XGBoost binary classifier on 4 numeric features that accept missing values
  (matrix layout), the converter's own example.
- mixed: a scikit-learn Pipeline (imputer + scaler, one-hot encoders, LogisticRegression) on a
  pandas DataFrame with numeric and string features (columns layout); "plan" refuses unknown
  categories, "region" accepts them.
- grades: LogisticRegression with 12 string classes (for response sizes and string labels).
- ridge: a Ridge regressor trained on a plain numpy array (features f0..f4).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lambda_tabular.runtime import App

from .runtime_support import GRADES, MIXED_NUMBERS, make_app, mixed_frame


def _convert(source: Path, out: Path, name: str) -> Path:
    from lambda_tabular.convert.build import Request, build

    build(Request(model=source, out=out, name=name, version="7"), log=lambda *a: None)
    return out


@pytest.fixture(scope="session")
def water_dir(tmp_path_factory) -> Path:
    from lambda_tabular.convert.examples import train_water_quality

    work = tmp_path_factory.mktemp("water")
    train_water_quality().save_model(work / "water_quality.json")
    return _convert(work / "water_quality.json", work / "model", "water_quality")


@pytest.fixture(scope="session")
def mixed_dir(tmp_path_factory) -> Path:
    import joblib
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame, y = mixed_frame(600, seed=3)
    model = Pipeline([
        ("prepare", ColumnTransformer([
            ("num", Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]), MIXED_NUMBERS),
            ("plan", OneHotEncoder(handle_unknown="error", sparse_output=False), ["plan"]),
            ("region", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["region"]),
        ], sparse_threshold=0)),
        ("model", LogisticRegression()),
    ]).fit(frame, y)
    work = tmp_path_factory.mktemp("mixed")
    joblib.dump(model, work / "mixed.joblib")
    return _convert(work / "mixed.joblib", work / "model", "mixed")


@pytest.fixture(scope="session")
def grades_dir(tmp_path_factory) -> Path:
    import joblib
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    X = rng.normal(size=(1200, 4))
    y = np.array(GRADES)[np.digitize(X @ [1.0, 0.5, -0.7, 0.2], np.linspace(-2, 2, 11))]
    work = tmp_path_factory.mktemp("grades")
    joblib.dump(LogisticRegression(max_iter=500).fit(X, y), work / "grades.joblib")
    return _convert(work / "grades.joblib", work / "model", "grades")


@pytest.fixture(scope="session")
def ridge_dir(tmp_path_factory) -> Path:
    import joblib
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(9)
    X = rng.normal(size=(500, 5)) * [1, 10, 0.1, 100, 1] + [0, 50, 0, 1000, 5]
    y = X @ [2.0, 0.3, -4.0, 0.01, 1.5] + rng.normal(0, 0.1, 500)
    work = tmp_path_factory.mktemp("ridge")
    joblib.dump(Ridge().fit(X, y), work / "ridge.joblib")
    return _convert(work / "ridge.joblib", work / "model", "ridge")


@pytest.fixture(scope="session")
def water(water_dir) -> App:
    return make_app(water_dir)


@pytest.fixture(scope="session")
def mixed(mixed_dir) -> App:
    return make_app(mixed_dir)


@pytest.fixture(scope="session")
def grades(grades_dir) -> App:
    return make_app(grades_dir)


@pytest.fixture(scope="session")
def ridge(ridge_dir) -> App:
    return make_app(ridge_dir)

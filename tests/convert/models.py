"""The model matrix the converter must handle, trained on small synthetic data with fixed seeds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

N_TRAIN = 600


def numeric_data(seed: int, rows: int = N_TRAIN, features: int = 5, missing: float = 0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features)) * [1, 10, 0.1, 100, 1][:features] + [0, 50, 0, 1000, 5][:features]
    signal = X[:, 0] + (X[:, 1] - 50) / 10 - X[:, 2] * 5
    if missing:
        X[rng.random(X.shape) < missing] = np.nan
    return X, signal + rng.normal(0, 0.3, rows)


def mixed_frame(seed: int, rows: int = N_TRAIN):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, rows).astype(float),
        "income": rng.normal(50_000, 15_000, rows).round(0),
        "plan": rng.choice(["basic", "plus", "pro"], rows),
        "region": rng.choice(["north", "south", "east", "west"], rows),
        "score": rng.normal(0, 1, rows),
    })
    frame.loc[rng.random(rows) < 0.05, "income"] = np.nan
    signal = (
        (frame.age - 50) / 10 + frame.plan.map({"basic": -1, "plus": 0, "pro": 1.5})
        + (frame.region == "east") * 0.8 + frame.score
    )
    return frame, signal.to_numpy() + rng.normal(0, 0.3, rows)


def diabetes_members():
    """scikit-learn's diabetes data with its sex column as a pandas bool column, "member", its
    numbers as DataFrame.to_json writes them (10 significant digits), and a binary target."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes(as_frame=True)
    frame = data.data.assign(member=data.data["sex"] > 0).drop(columns="sex")
    frame = pd.DataFrame(json.loads(frame.to_json(orient="records")))
    return frame, (data.target > 140).astype(int).to_numpy()


def labels(signal, classes: int):
    edges = np.quantile(signal, np.linspace(0, 1, classes + 1)[1:-1])
    return np.digitize(signal, edges)


def column_transformer(dense: bool = True):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return ColumnTransformer(
        [
            ("num", Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]), ["age", "income", "score"]),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=not dense), ["plan", "region"]),
        ],
        sparse_threshold=0 if dense else 1.0,
    )

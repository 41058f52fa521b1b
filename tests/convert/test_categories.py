"""Categorical data as people model it: HistGradientBoosting on pandas ``category`` columns and
behind an OrdinalEncoder, served by the runtime on rows with seen, unseen and missing categories."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest

from lambda_tabular.convert.build import Request, build
from lambda_tabular.convert.errors import UnsupportedModel
from lambda_tabular.runtime import App, Settings

from .coverage import _ordinal_hist_gradient_boosting, _sk, dataset

TOLERANCE = 1e-4


def _rows_to_probe(columns) -> pd.DataFrame:
    """Every known category, unseen ones and missing ones, over a few rows of numbers."""
    frame, _ = dataset("categories", 2, seed=7)
    base = frame.head(4).astype(object)
    probes = {
        "plan": ["basic", "plus", "pro", "enterprise", "", None],
        "region": ["north", "south", "east", "west", "mars", None],
        "rooms": [1, 2, 3, 4, 5, 0, 6, 2.5, -1, None],
    }
    parts = []
    for name, values in probes.items():
        if name not in columns:
            continue
        for value in values:
            part = base.copy()
            part[name] = [value] * len(part)
            parts.append(part)
    return pd.concat(parts, ignore_index=True)[list(columns)]


def _serve(model_dir, rows: pd.DataFrame) -> dict:
    app = App.from_settings(Settings(model_dir=model_dir, metrics=False, log_level="ERROR"))
    records = [{k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else v) for k, v in r.items()}
               for r in rows.to_dict("records")]
    return app({"instances": records})


def _original_frame(rows: pd.DataFrame, trained: pd.DataFrame) -> pd.DataFrame:
    """The rows as a user's DataFrame holds them: numbers as numbers, categories as objects."""
    out = rows.copy()
    for name in out.columns:
        if not isinstance(trained[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].astype(np.float64)
    return out


@pytest.mark.parametrize("target", [2, 3, 0])
def test_hist_gradient_boosting_on_category_columns(target, tmp_path):
    sk = _sk()
    X, y = dataset("categories", target, seed=1)
    estimator = sk["ens"].HistGradientBoostingRegressor if target == 0 else sk["ens"].HistGradientBoostingClassifier
    model = estimator(max_iter=40, random_state=0).fit(X, y)  # categorical_features="from_dtype", the default
    joblib.dump(model, tmp_path / "model.joblib")

    metadata = build(Request(tmp_path / "model.joblib", tmp_path / "out"), log=lambda *a: None)

    features = {f["name"]: f for f in metadata["features"]}
    assert features["plan"] == {"name": "plan", "type": "string", "nullable": True}  # unseen values are served
    assert features["rooms"]["type"] == "number" and features["rooms"]["nullable"]
    assert metadata["onnx"]["tree_form"] == "TreeEnsemble-opset5"
    assert {"categories", "missing:region", "unseen:region"} <= set(metadata["parity"]["groups"])

    rows = _rows_to_probe(X.columns)
    answer = _serve(tmp_path / "out", rows)
    assert "error" not in answer, answer
    original = _original_frame(rows, X)
    if target == 0:
        np.testing.assert_allclose(answer["predictions"], model.predict(original), atol=TOLERANCE, rtol=TOLERANCE)
    else:
        np.testing.assert_allclose(answer["probabilities"], model.predict_proba(original), atol=TOLERANCE)
        assert [str(p) for p in answer["predictions"]] == [str(p) for p in model.predict(original)]


def test_ordinal_encoder_then_categorical_features_by_name(tmp_path):
    X, y = dataset("mixed", 2, seed=1)
    model = _ordinal_hist_gradient_boosting(_sk()).fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")

    metadata = build(Request(tmp_path / "model.joblib", tmp_path / "out"), log=lambda *a: None)

    assert metadata["onnx"]["tree_form"] == "TreeEnsemble-opset5"
    rows = _rows_to_probe(list(X.columns))
    answer = _serve(tmp_path / "out", rows)
    assert "error" not in answer, answer
    original = _original_frame(rows, X.astype({"plan": "category", "region": "category"}))
    np.testing.assert_allclose(answer["probabilities"], model.predict_proba(original), atol=TOLERANCE)


def test_text_categories_behind_another_step_are_refused_in_one_line(tmp_path):
    sk = _sk()
    X, y = dataset("categories", 2, seed=1)
    model = sk["pipe"].make_pipeline(
        sk["pre"].FunctionTransformer(feature_names_out="one-to-one"),
        sk["ens"].HistGradientBoostingClassifier(max_iter=10),
    ).fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")
    with pytest.raises(UnsupportedModel, match=r"reads text categories that reach it through step .functiontransformer."):
        build(Request(tmp_path / "model.joblib", tmp_path / "out"), log=lambda *a: None)


def test_a_literal_null_marker_is_refused_where_null_is_served(tmp_path):
    X, y = dataset("categories", 2, seed=1)
    model = _sk()["ens"].HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")
    build(Request(tmp_path / "model.joblib", tmp_path / "out"), log=lambda *a: None)
    row = {"age": 40.0, "income": 5e4, "plan": "pro", "region": "\x00", "score": 0.1, "rooms": 2}
    answer = _serve(tmp_path / "out", pd.DataFrame([row]))
    assert answer["error"]["code"] == "wrong_type"
    assert "instances[0].region" in answer["error"]["message"] and "send null" in answer["error"]["message"]


@pytest.mark.parametrize("marker,strategy", [(np.nan, "constant"), (None, "constant"), (np.nan, "most_frequent")])
def test_imputed_text_with_gaps_serves_null(marker, strategy, tmp_path):
    """SimpleImputer on text columns, then OneHotEncoder: the classic recipe for categories with
    gaps. A null in the request is answered as the original answers the gap it was trained on."""
    sk = _sk()
    X, y = dataset("mixed", 2, seed=1)
    X = X.astype({"plan": object, "region": object})
    rng = np.random.default_rng(3)
    for name in ("plan", "region"):
        X.loc[rng.random(len(X)) < 0.1, name] = marker
    from sklearn.compose import ColumnTransformer

    text = sk["pipe"].make_pipeline(
        sk["imp"].SimpleImputer(strategy=strategy, fill_value="missing", missing_values=marker),
        sk["pre"].OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    prep = ColumnTransformer(
        [("text", text, ["plan", "region"]), ("numbers", sk["imp"].SimpleImputer(), ["age", "income", "score"])],
        sparse_threshold=0,
    )
    model = sk["pipe"].make_pipeline(prep, sk["lin"].LogisticRegression(max_iter=1000)).fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")

    metadata = build(Request(tmp_path / "model.joblib", tmp_path / "out"), log=lambda *a: None)

    features = {f["name"]: f for f in metadata["features"]}
    assert features["region"]["nullable"] and features["plan"]["nullable"]
    rows = pd.DataFrame({
        "age": [30.0] * 4, "income": [40_000.0] * 4,
        "plan": ["pro", marker, "basic", "unheard of"], "region": [marker, "east", "missing", marker],
        "score": [0.5, -1.0, 2.0, 0.0],
    }, dtype=object)
    answer = _serve(tmp_path / "out", rows)
    assert "error" not in answer, answer
    original = rows.astype({"age": float, "income": float, "score": float})
    np.testing.assert_allclose(answer["probabilities"], model.predict_proba(original), atol=TOLERANCE)
    # the gap is imputed, not read as an unknown category: it answers differently from one
    unknown = _serve(tmp_path / "out", rows.assign(region=["nowhere"] * 4))
    assert answer["probabilities"][0] != unknown["probabilities"][0]


def test_lightgbm_categorical_splits_on_raw_numbers_as_lightgbm_reads_them(tmp_path):
    """LightGBM cuts a categorical value to an integer toward zero, and sends NaN and negative
    numbers right: members, non-members, fractions, negatives, values beyond the largest
    category and gaps, served as LightGBM answers them."""
    import lightgbm

    rng = np.random.default_rng(5)
    X = np.column_stack([rng.integers(0, 12, 3000), rng.normal(size=3000), rng.integers(0, 4, 3000)]).astype(float)
    X[rng.random(3000) < 0.05, 0] = np.nan
    y = (np.isin(X[:, 0], [0, 2, 7, 9]) ^ (X[:, 1] > 0.2) ^ (X[:, 2] == 1)).astype(int)
    model = lightgbm.LGBMClassifier(n_estimators=40, num_leaves=15, min_data_per_group=5, verbose=-1)
    model.fit(X, y, categorical_feature=[0, 2])
    joblib.dump(model, tmp_path / "model.joblib")

    metadata = build(Request(tmp_path / "model.joblib", tmp_path / "out", features=["code", "x", "level"]),
                     log=lambda *a: None)

    assert metadata["onnx"]["tree_form"] == "TreeEnsemble-opset5" and "categories" in metadata["parity"]["groups"]
    values = [0, 1, 2, 2.7, 7, 7.9999, 9, -0.5, -0.9, -1, -3.5, 11, 12, 40, 1e6, 3e9, None]
    rows = pd.DataFrame({"code": values, "x": [0.1] * len(values), "level": [1.0] * len(values)})
    answer = _serve(tmp_path / "out", rows)
    assert "error" not in answer, answer
    expected = model.predict_proba(rows.to_numpy(dtype=float))
    np.testing.assert_allclose(answer["probabilities"], expected, atol=TOLERANCE)


def test_lightgbm_on_pandas_category_columns(tmp_path):
    import lightgbm

    X, y = dataset("categories", 2, seed=1)
    model = lightgbm.LGBMClassifier(n_estimators=40, num_leaves=15, min_data_per_group=10, verbose=-1).fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")

    metadata = build(Request(tmp_path / "model.joblib", tmp_path / "out"), log=lambda *a: None)

    features = {f["name"]: f for f in metadata["features"]}
    assert features["plan"]["type"] == "string" and features["rooms"]["type"] == "number"
    rows = _rows_to_probe(X.columns)
    answer = _serve(tmp_path / "out", rows)
    assert "error" not in answer, answer
    original = rows.copy()
    for name in ("plan", "region", "rooms"):  # a user's frame: the categories as trained, others missing
        known = list(X[name].cat.categories)
        original[name] = pd.Categorical(original[name].where(original[name].isin(known), None), categories=known)
    for name in ("age", "income", "score"):
        original[name] = original[name].astype(float)
    np.testing.assert_allclose(answer["probabilities"], model.predict_proba(original), atol=TOLERANCE)

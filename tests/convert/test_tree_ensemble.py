"""The TreeEnsemble (ai.onnx.ml 5) rewrite: same answers as the converters' own form, on fresh
rows with missing values, for every tree family; refused where it would not pay or not hold;
and the parity gate keeps the original form whenever the rewrite is wrong."""

from __future__ import annotations

import json

import joblib
import numpy as np
import onnxruntime as ort
import pytest
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from xgboost import XGBClassifier, XGBRegressor

from lambda_tabular.convert import export, tree_ensemble
from lambda_tabular.convert.build import Request, build
from lambda_tabular.convert.schema import schema_of

from .models import labels, numeric_data

# Both forms share thresholds, comparisons and leaf weights; only the sigmoid/softmax after the
# trees is computed by another kernel (a float32 ulp or two) and sums may group differently.
SAME = 1e-6
ORIGINAL = 1e-5  # against scikit-learn / XGBoost, as in test_matrix.py
XGB = {"n_estimators": 30, "max_depth": 4, "n_jobs": 1, "random_state": 0}

CASES = {
    # name: (estimator factory, target: 0 regression, k classes, "strings", "two targets", "constant")
    "random_forest_binary": (lambda: RandomForestClassifier(20, random_state=0), 2),
    "random_forest_binary_strings": (lambda: RandomForestClassifier(20, random_state=0), "strings2"),
    "random_forest_multiclass": (lambda: RandomForestClassifier(20, random_state=0), 3),
    "extra_trees_binary": (lambda: ExtraTreesClassifier(20, random_state=0), 2),
    "extra_trees_multiclass_strings": (lambda: ExtraTreesClassifier(20, random_state=0), "strings"),
    "decision_tree_binary": (lambda: DecisionTreeClassifier(max_depth=6, random_state=0), 2),
    "decision_tree_multiclass": (lambda: DecisionTreeClassifier(max_depth=6, random_state=0), 3),
    "gradient_boosting_binary": (lambda: GradientBoostingClassifier(n_estimators=30, random_state=0), 2),
    "gradient_boosting_multiclass_strings": (lambda: GradientBoostingClassifier(n_estimators=30, random_state=0), "strings"),
    "scaler_gradient_boosting_multiclass": (
        lambda: make_pipeline(StandardScaler(), GradientBoostingClassifier(n_estimators=30, random_state=0)), 4),
    "hist_gradient_boosting_binary": (lambda: HistGradientBoostingClassifier(max_iter=30, random_state=0), 2),
    "hist_gradient_boosting_multiclass": (lambda: HistGradientBoostingClassifier(max_iter=30, random_state=0), 3),
    "xgboost_binary": (lambda: XGBClassifier(objective="binary:logistic", **XGB), 2),
    "xgboost_multiclass": (lambda: XGBClassifier(objective="multi:softprob", **XGB), 3),
    "random_forest_regressor": (lambda: RandomForestRegressor(20, random_state=0), 0),
    "random_forest_regressor_two_targets": (lambda: RandomForestRegressor(20, random_state=0), "two targets"),
    "extra_trees_regressor": (lambda: ExtraTreesRegressor(20, random_state=0), 0),
    "gradient_boosting_regressor": (lambda: GradientBoostingRegressor(n_estimators=30, random_state=0), 0),
    "hist_gradient_boosting_regressor": (lambda: HistGradientBoostingRegressor(max_iter=30, random_state=0), 0),
    "xgboost_regressor": (lambda: XGBRegressor(objective="reg:squarederror", **XGB), 0),
    "decision_tree_regressor": (lambda: DecisionTreeRegressor(max_depth=6, random_state=0), 0),
    "decision_tree_regressor_two_targets": (lambda: DecisionTreeRegressor(max_depth=6, random_state=0), "two targets"),
    "constant_target_stumps": (lambda: GradientBoostingRegressor(n_estimators=5, random_state=0), "constant"),
}
# Leaves carrying one weight per class or target: TreeEnsemble would repeat every tree.
SEVERAL_WEIGHTS = {
    "random_forest_multiclass", "extra_trees_multiclass_strings", "decision_tree_multiclass",
    "random_forest_regressor_two_targets", "decision_tree_regressor_two_targets",
}
ACCEPTS_NAN = ("hist_gradient_boosting", "xgboost")


def dataset(target, seed: int, missing: float = 0.0):
    X, signal = numeric_data(seed, missing=missing)
    if target == 0:
        return X, signal
    if target == "two targets":
        return X, np.c_[signal, -2 * signal + 1]
    if target == "constant":
        return X, np.full(len(signal), 3.25)
    if target == "strings":
        return X, np.array(["low", "mid", "high"])[labels(signal, 3)]
    if target == "strings2":
        return X, np.array(["no", "yes"])[labels(signal, 2)]
    return X, labels(signal, target)


def fitted(case: str, seed: int = 1):
    factory, target = CASES[case]
    missing = 0.1 if case.startswith(ACCEPTS_NAN) else 0.0
    X, y = dataset(target, seed, missing)
    return factory().fit(X, y)


def fresh_rows(seed: int = 99) -> np.ndarray:
    X, _ = numeric_data(seed, rows=400)
    X[:40] = np.nan_to_num(X[:40]) * 3  # far outside the training range
    X[np.random.default_rng(seed).random(X.shape) < 0.1] = np.nan
    return X


def session(onx):
    return ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])


def loadable_forms(model):
    """(dtype, converter's ONNX) for each input dtype onnxruntime runs for this model."""
    schema = schema_of(model, None)
    forms = []
    for dtype in ("float64", "float32"):
        onx = export.to_onnx(model, schema, dtype)
        try:
            session(onx)
        except Exception:  # HistGradientBoosting in float64: no kernel
            continue
        forms.append((dtype, onx))
    assert forms
    return forms


def assert_same_outputs(a: list, b: list, ties: bool = False):
    """Same types, shapes, labels and values; with ``ties``, labels may differ where the top
    two probabilities are within SAME (sums of the copied trees group differently)."""
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        if x.dtype.kind not in "OUi":
            np.testing.assert_allclose(y, x, rtol=SAME, atol=SAME)
    if len(a) == 2:
        top2 = np.sort(a[1], axis=1)[:, -2:]
        decided = top2[:, 1] - top2[:, 0] > SAME if ties else np.ones(len(a[0]), bool)
        np.testing.assert_array_equal(a[0][decided], b[0][decided])


@pytest.mark.parametrize("case", sorted(CASES))
def test_rewrite_answers_as_the_converters_form(case):
    model = fitted(case)
    X = fresh_rows()
    for dtype, onx in loadable_forms(model):
        copied = case in SEVERAL_WEIGHTS
        if copied:
            with pytest.raises(tree_ensemble.NotRewritten, match="weights each"):
                tree_ensemble.rewrite(onx)
            rewritten = tree_ensemble.rewrite(onx, copy_trees=True)  # correct, but not served
        else:
            rewritten = tree_ensemble.rewrite(onx)
        assert tree_ensemble.tree_form(rewritten) == "TreeEnsemble-opset5"
        assert {n.op_type for n in rewritten.graph.node}.isdisjoint(tree_ensemble.LEGACY)
        assert {(d.domain or "ai.onnx"): d.version for d in rewritten.opset_import}["ai.onnx.ml"] == 5
        assert [(o.name, o.type.tensor_type.elem_type) for o in rewritten.graph.output] == [
            (o.name, o.type.tensor_type.elem_type) for o in onx.graph.output
        ]
        feed = {"X": X.astype(dtype)}
        assert_same_outputs(session(onx).run(None, feed), session(rewritten).run(None, feed), ties=copied)


@pytest.mark.parametrize("case", sorted(set(CASES) - SEVERAL_WEIGHTS))
def test_rewrite_answers_as_the_original_estimator(case):
    model = fitted(case)
    X = fresh_rows()
    if not case.startswith(ACCEPTS_NAN):  # skl2onnx does not route NaN as scikit-learn does
        X = X[~np.isnan(X).any(axis=1)]
    dtype, onx = loadable_forms(model)[0]
    outputs = session(tree_ensemble.rewrite(onx)).run(None, {"X": X.astype(dtype)})
    if hasattr(model, "predict_proba"):
        expected = model.predict_proba(X)
        assert np.abs(outputs[1] - expected).max() <= ORIGINAL
        top2 = np.sort(expected, axis=1)[:, -2:]
        decided = top2[:, 1] - top2[:, 0] > ORIGINAL
        np.testing.assert_array_equal(outputs[0][decided].astype(str), model.predict(X)[decided].astype(str))
    else:
        expected = model.predict(X)
        got = outputs[0].reshape(expected.shape)
        assert (np.abs(got - expected) / np.maximum(1, np.abs(expected))).max() <= ORIGINAL


def test_forest_file_is_smaller():
    model = RandomForestClassifier(40, max_depth=10, random_state=0).fit(*dataset(2, seed=1))
    _, onx = loadable_forms(model)[0]
    original, rewritten = len(onx.SerializeToString()), len(tree_ensemble.rewrite(onx).SerializeToString())
    assert rewritten < 0.5 * original, (original, rewritten)


def convert(tmp_path, model):
    joblib.dump(model, tmp_path / "model.joblib")
    build(Request(tmp_path / "model.joblib", tmp_path / "out"), log=lambda *a: None)
    return json.loads((tmp_path / "out" / "model.json").read_text())


def test_build_serves_the_rewrite_and_says_so(tmp_path):
    metadata = convert(tmp_path, fitted("gradient_boosting_binary"))
    assert metadata["onnx"]["tree_form"] == "TreeEnsemble-opset5"
    assert metadata["onnx"]["opsets"]["ai.onnx.ml"] == 5
    assert metadata["parity"]["attempts"] == [
        {"input_dtype": "float64", "form": "TreeEnsemble-opset5", "outcome": "passed"}
    ]


def test_build_keeps_the_converters_form_when_leaves_carry_several_weights(tmp_path):
    metadata = convert(tmp_path, fitted("random_forest_multiclass"))
    assert metadata["onnx"]["tree_form"] == "TreeEnsembleClassifier-opset1"
    first, second = metadata["parity"]["attempts"]
    assert first["form"] == "TreeEnsemble-opset5" and first["outcome"].startswith("not rewritten: leaves carry 3 weights")
    assert second == {"input_dtype": "float64", "form": "TreeEnsembleClassifier-opset1", "outcome": "passed"}


def test_parity_gate_refuses_a_wrong_rewrite_and_keeps_the_original(tmp_path, monkeypatch):
    real = tree_ensemble.rewrite

    def off_by_a_little(onx, **kwargs):
        """The real rewrite with every leaf weight 1% off: loads and runs, answers wrong."""
        onx = real(onx, **kwargs)
        for node in onx.graph.node:
            if node.op_type == "TreeEnsemble":
                weights = next(a for a in node.attribute if a.name == "leaf_weights")
                values = np.frombuffer(weights.t.raw_data, dtype=np.float32) * np.float32(1.01)
                weights.t.raw_data = values.astype(np.float32).tobytes()
        return onx

    monkeypatch.setattr(tree_ensemble, "rewrite", off_by_a_little)
    model = fitted("xgboost_regressor")
    metadata = convert(tmp_path, model)

    assert metadata["onnx"]["tree_form"] == "TreeEnsembleRegressor-opset3"
    attempts = metadata["parity"]["attempts"]
    assert attempts[0]["form"] == "TreeEnsemble-opset5"
    assert attempts[0]["outcome"].startswith("parity failed on ")
    assert attempts[1] == {"input_dtype": "float64", "form": "TreeEnsembleRegressor-opset3", "outcome": "passed"}
    served = ort.InferenceSession(str(tmp_path / "out" / "model.onnx"), providers=["CPUExecutionProvider"])
    assert {n.op_type for n in _graph(tmp_path).node} & set(tree_ensemble.LEGACY)
    X = fresh_rows()
    got = served.run(None, {"X": X})[0].ravel()
    np.testing.assert_allclose(got, model.predict(X), rtol=ORIGINAL, atol=ORIGINAL)


def test_a_rewrite_that_breaks_is_reported_not_raised(tmp_path, monkeypatch):
    def broken(onx, **kwargs):
        raise IndexError("index 7 is out of bounds")

    monkeypatch.setattr(tree_ensemble, "rewrite", broken)
    metadata = convert(tmp_path, fitted("random_forest_regressor"))
    assert metadata["onnx"]["tree_form"] == "TreeEnsembleRegressor-opset1"
    assert metadata["parity"]["attempts"][0]["outcome"] == "not rewritten: IndexError: index 7 is out of bounds"


def test_models_without_trees_have_no_tree_form(tmp_path):
    from sklearn.linear_model import Ridge

    metadata = convert(tmp_path, Ridge().fit(*dataset(0, seed=1)))
    assert metadata["onnx"]["tree_form"] is None
    assert metadata["parity"]["attempts"] == [{"input_dtype": "float64", "outcome": "passed"}]


def _graph(tmp_path):
    import onnx

    return onnx.load(str(tmp_path / "out" / "model.onnx")).graph


def test_float64_trees_take_their_familys_numbers_only_where_every_node_matches():
    """HistGradientBoosting compares in float64: its trees are rewritten in float64 with its own
    thresholds, and not at all when one of those numbers does not match the converter's node."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import HistGradientBoostingClassifier

    from lambda_tabular.convert import families

    X, y = load_breast_cancer(return_X_y=True)
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    onx = export.to_onnx(model, schema_of(model, None), "float64")
    exact = families.exact_trees(model)
    rewritten = tree_ensemble.rewrite(onx, exact=exact)
    _, probabilities = session(rewritten).run(None, {"X": X})
    np.testing.assert_allclose(probabilities, model.predict_proba(X), rtol=0, atol=1e-12)

    with pytest.raises(tree_ensemble.NotRewritten, match="compares in float32"):
        tree_ensemble.rewrite(onx)
    key = next(iter(exact.splits))
    exact.splits[key] = (exact.splits[key][0], exact.splits[key][1] + 1.0)
    with pytest.raises(tree_ensemble.NotRewritten, match="does not match its float64 threshold"):
        tree_ensemble.rewrite(onx, exact=exact)

"""`lambda-tabular convert` as a user runs it: reports, failure classes, and nothing half-written."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from xgboost import XGBClassifier, XGBRanker, XGBRegressor

from .models import column_transformer, labels, mixed_frame, numeric_data

ROOT = Path(__file__).resolve().parents[2]


def run(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "lambda_tabular.convert", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=300,
    )


def assert_refused(result, out: Path, *phrases: str, code: int | None = None):
    assert result.returncode != 0
    if code is not None:
        assert result.returncode == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr + result.stdout
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())


@pytest.fixture
def numeric_model(tmp_path):
    X, signal = numeric_data(1)
    path = tmp_path / "model.joblib"
    joblib.dump(RandomForestClassifier(20, random_state=0).fit(X, labels(signal, 2)), path)
    return path


def test_success_prints_the_parity_report_and_writes_both_files(numeric_model, tmp_path):
    out = tmp_path / "out"
    result = run(numeric_model, "--out", out, "--features", "a,b,c,d,e", "--name", "risk", "--model-version", "7")

    assert result.returncode == 0, result.stderr
    assert "parity: passed on" in result.stdout
    assert f"onnxruntime on {platform.machine()}" in result.stdout  # aarch64 in an arm64 build
    assert "label agreement" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["model.json", "model.onnx"]
    metadata = json.loads((out / "model.json").read_text())
    report = metadata["parity"]
    disagreements = round((1 - report["label_agreement"]) * report["rows"])
    assert disagreements == report["label_disagreements_on_ties"]
    assert report["machine"] == platform.machine()  # where the parity gate ran
    assert metadata["name"] == "risk" and metadata["version"] == "7"
    assert [f["name"] for f in metadata["features"]] == ["a", "b", "c", "d", "e"]
    import hashlib

    assert metadata["onnx"]["sha256"] == hashlib.sha256((out / "model.onnx").read_bytes()).hexdigest()
    for library in ("scikit-learn", "onnx", "onnxruntime", "skl2onnx", "numpy", "python"):
        assert metadata["versions"][library]
    assert metadata["reference"]["rows"] and len(metadata["reference"]["probabilities"]) == len(metadata["reference"]["rows"])


def test_sample_csv_is_used_for_parity(tmp_path):
    X, signal = mixed_frame(1)
    model = Pipeline([("prep", column_transformer()), ("m", LogisticRegression(max_iter=1000))]).fit(X, labels(signal, 2))
    joblib.dump(model, tmp_path / "m.joblib")
    sample = mixed_frame(5)[0].assign(target=1)  # extra columns are ignored
    sample.loc[0, "plan"] = "enterprise"  # unseen category
    sample.to_csv(tmp_path / "sample.csv", index=False)

    result = run(tmp_path / "m.joblib", "--out", tmp_path / "out", "--sample", tmp_path / "sample.csv")

    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "model.json").read_text())["parity"]
    assert report["groups"]["sample"]["rows"] == len(sample)
    assert report["groups"]["sample"]["passed"]
    assert "unseen:plan" in report["groups"]


def test_sample_npy(numeric_model, tmp_path):
    np.save(tmp_path / "rows.npy", numeric_data(4)[0])
    result = run(numeric_model, "--out", tmp_path / "out", "--sample", tmp_path / "rows.npy")
    assert result.returncode == 0, result.stderr
    assert "sample" in result.stdout


def test_missing_file(tmp_path):
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "nope.joblib", "--out", out), out, "no such file", code=2)


def test_unreadable_file(tmp_path):
    (tmp_path / "junk.joblib").write_bytes(b"this is not a pickle")
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "junk.joblib", "--out", out), out, "not a readable joblib/pickle file", code=2)


def test_unreadable_xgboost_file(tmp_path):
    (tmp_path / "junk.json").write_text("{}")
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "junk.json", "--out", out), out, "not a readable XGBoost model", code=2)


def test_not_a_model(tmp_path):
    joblib.dump({"weights": [1, 2]}, tmp_path / "dict.joblib")
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "dict.joblib", "--out", out), out, "holds a dict", code=2)


def test_unfitted_model(tmp_path):
    joblib.dump(LogisticRegression(), tmp_path / "m.joblib")
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "m.joblib", "--out", out), out, "not fitted", code=2)


def test_unsupported_estimator(tmp_path):
    joblib.dump(KMeans(3, n_init=1).fit(numeric_data(1)[0]), tmp_path / "m.joblib")
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "m.joblib", "--out", out), out,
                   "KMeans is neither a classifier, a regressor nor an outlier detector", code=3)


def test_custom_transformer(tmp_path):
    """A transformer of the user's own, importable at build time, but with no ONNX converter."""
    script = tmp_path / "make.py"
    (tmp_path / "custom.py").write_text(
        "import numpy as np\nfrom sklearn.base import BaseEstimator, TransformerMixin\n"
        "class Doubler(BaseEstimator, TransformerMixin):\n"
        "    def fit(self, X, y=None):\n        self.n_features_in_ = np.asarray(X).shape[1]\n        return self\n"
        "    def transform(self, X):\n        return np.asarray(X) * 2\n"
    )
    script.write_text(
        "import joblib, numpy as np, custom\nfrom sklearn.pipeline import Pipeline\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "X = np.random.default_rng(0).normal(size=(50, 3)); y = (X[:, 0] > 0).astype(int)\n"
        "joblib.dump(Pipeline([('double', custom.Doubler()), ('m', LogisticRegression())]).fit(X, y), 'm.joblib')\n"
    )
    subprocess.run([sys.executable, script.name], cwd=tmp_path, check=True)
    out = tmp_path / "out"
    import os

    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    result = subprocess.run(
        [sys.executable, "-m", "lambda_tabular.convert", "m.joblib", "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )
    assert_refused(result, out, "no ONNX converter for Doubler", code=3)


def test_custom_class_not_importable(tmp_path):
    (tmp_path / "gone.py").write_text("class Thing:\n    pass\n")
    subprocess.run(
        [sys.executable, "-c", "import joblib, gone; joblib.dump(gone.Thing(), 'm.joblib')"],
        cwd=tmp_path, check=True,
    )
    (tmp_path / "gone.py").unlink()
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "m.joblib", "--out", out), out, "needs code that is not installed", code=2)


def test_unsupported_xgboost_objective(tmp_path):
    X, signal = numeric_data(1)
    ranker = XGBRanker(n_estimators=5, objective="rank:pairwise").fit(X, labels(signal, 3), qid=np.repeat(np.arange(60), 10))
    ranker.save_model(tmp_path / "rank.json")
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "rank.json", "--out", out), out, "objective 'rank:pairwise' is not supported", code=3)


def test_sparse_one_hot_into_xgboost(tmp_path):
    X, signal = mixed_frame(1)
    model = Pipeline([("prep", column_transformer(dense=False)), ("m", XGBClassifier(n_estimators=10))])
    joblib.dump(model.fit(X, labels(signal, 2)), tmp_path / "m.joblib")
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "m.joblib", "--out", out), out, "feeds a sparse matrix to XGBoost", "sparse_output=False", code=3)


def test_wrong_features_count(numeric_model, tmp_path):
    out = tmp_path / "out"
    assert_refused(run(numeric_model, "--out", out, "--features", "a,b"), out, "--features names 2 features but the model takes 5", code=4)


def test_features_out_of_order(tmp_path):
    X = pd.DataFrame(numeric_data(1)[0][:, :3], columns=["ph", "tds", "temperature"])
    joblib.dump(LogisticRegression().fit(X, (X.ph > 0).astype(int)), tmp_path / "m.joblib")
    out = tmp_path / "out"
    assert_refused(
        run(tmp_path / "m.joblib", "--out", out, "--features", "tds,ph,temperature"), out,
        "another order than it was trained with; the trained order is ph,tds,temperature", code=4,
    )


def test_sample_missing_a_column(numeric_model, tmp_path):
    pd.DataFrame({"f0": [1.0], "f1": [2.0]}).to_csv(tmp_path / "s.csv", index=False)
    out = tmp_path / "out"
    assert_refused(run(numeric_model, "--out", out, "--sample", tmp_path / "s.csv"), out, "missing column(s) f2, f3, f4", code=4)


@pytest.mark.parametrize("tolerance", ["0", "-1e-4", "inf", "nan", "1e308", "0.0101"])
def test_bad_tolerance(tmp_path, tolerance):
    """Refused before any work: the model file is junk, so a later check would say exit 2."""
    (tmp_path / "junk.joblib").write_bytes(b"junk")
    out = tmp_path / "out"
    assert_refused(
        run(tmp_path / "junk.joblib", "--out", out, f"--tolerance={tolerance}"), out,
        "--tolerance must be a positive number no larger than 0.01", code=4,
    )


@pytest.mark.parametrize(
    "args, phrase",
    [
        (["--tolerance", "abc"], "argument --tolerance: invalid float value: 'abc'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--features", "a,,b"], "argument --features: empty name in the list"),
        (["--name", ""], "--name: expected a non-empty name"),
        (["--sample", "nope.csv"], "--sample nope.csv: no such file"),
        (["--out"], "argument --out: expected one argument"),
    ],
)
def test_malformed_flags_are_one_line_before_any_work(tmp_path, args, phrase):
    (tmp_path / "junk.joblib").write_bytes(b"junk")
    out = tmp_path / "out"
    result = run(tmp_path / "junk.joblib", "--out", out, *args)
    assert_refused(result, out, phrase, code=4)
    assert "usage:" not in result.stderr


def test_out_naming_a_file_is_refused_before_any_work(tmp_path):
    (tmp_path / "junk.joblib").write_bytes(b"junk")
    (tmp_path / "taken").write_text("a file")
    result = run(tmp_path / "junk.joblib", "--out", tmp_path / "taken")
    assert result.returncode == 4
    assert result.stderr.strip() == f"error: --out {tmp_path / 'taken'}: exists and is not a directory"
    result = run(tmp_path / "junk.joblib", "--out", tmp_path / "taken" / "model")
    assert result.stderr.strip() == f"error: --out {tmp_path / 'taken' / 'model'}: {tmp_path / 'taken'} is not a directory"
    assert (tmp_path / "taken").read_text() == "a file"


def test_model_json_is_sealed_with_the_runtimes_digest(numeric_model, tmp_path):
    from lambda_tabular.runtime import integrity
    from lambda_tabular.runtime.config import Settings
    from lambda_tabular.runtime.errors import ModelError
    from lambda_tabular.runtime.model import Model

    out = tmp_path / "out"
    assert run(numeric_model, "--out", out).returncode == 0
    meta = json.loads((out / "model.json").read_text())
    assert meta["integrity"] == integrity.integrity_block(meta, meta["onnx"]["sha256"])
    assert Model.load(Settings(model_dir=out)).schema.digest == meta["integrity"]["digest"]
    meta["classes"] = meta["classes"][::-1]
    (out / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"integrity.digest does not match"):
        Model.load(Settings(model_dir=out))


def test_float32_collapse_in_histgradientboosting_is_served_by_float64_trees(tmp_path):
    """Timestamps as features: split thresholds a few seconds apart, but float32 spacing at
    1.7e9 is 128 s. HistGradientBoosting compares in float64; its trees are written in float64
    with its own thresholds, and answer every training row as scikit-learn does."""
    import onnxruntime as ort
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    t = 1.7e9 + rng.integers(0, 2000, 800).astype(float)
    X = np.column_stack([t, rng.normal(size=800)])
    y = ((t % 7) > 3).astype(int)
    model = HistGradientBoostingClassifier(max_iter=30).fit(X, y)
    joblib.dump(model, tmp_path / "m.joblib")
    out = tmp_path / "out"
    result = run(tmp_path / "m.joblib", "--out", out)
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "model.json").read_text())
    assert meta["onnx"]["input_dtype"] == "float64" and meta["onnx"]["tree_form"] == "TreeEnsemble-opset5"
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    labels, probabilities = session.run(None, {"X": X})
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(probabilities, model.predict_proba(X), rtol=0, atol=1e-12)


def test_float32_collapse_in_a_linear_model_is_converted_in_float64(tmp_path):
    """The same collapse in a model onnxruntime can run in float64 ends in a correct model."""
    rng = np.random.default_rng(0)
    X = np.column_stack([1.7e9 + rng.integers(0, 2000, 500).astype(float), rng.normal(size=500)])
    y = X[:, 0] * 3.0 + X[:, 1]
    from sklearn.linear_model import LinearRegression

    joblib.dump(LinearRegression().fit(X, y), tmp_path / "m.joblib")
    result = run(tmp_path / "m.joblib", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "out" / "model.json").read_text())["onnx"]["input_dtype"] == "float64"


def test_parity_failure_leaves_an_existing_artifact_untouched(numeric_model, tmp_path):
    out = tmp_path / "out"
    assert run(numeric_model, "--out", out).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (tmp_path / "junk.joblib").write_bytes(b"junk")
    result = run(tmp_path / "junk.joblib", "--out", out)
    assert result.returncode == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_missing_values_the_onnx_model_cannot_reproduce_are_refused_at_runtime(numeric_model, tmp_path):
    """scikit-learn's forests route NaN down a learned branch; skl2onnx's trees do not. The
    converter keeps the model and marks those features as not nullable, with a warning."""
    result = run(numeric_model, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "warning: ONNX does not reproduce how the original handles missing values" in result.stdout
    features = json.loads((tmp_path / "out" / "model.json").read_text())["features"]
    assert not any(f["nullable"] for f in features)


def test_closed_categories_are_recorded(tmp_path):
    X, signal = mixed_frame(1)
    X = X[["plan", "score"]]
    from sklearn.compose import ColumnTransformer

    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="error", sparse_output=False), ["plan"])], remainder="passthrough")
    joblib.dump(Pipeline([("prep", prep), ("m", LogisticRegression())]).fit(X, labels(signal, 2)), tmp_path / "m.joblib")
    result = run(tmp_path / "m.joblib", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    features = {f["name"]: f for f in json.loads((tmp_path / "out" / "model.json").read_text())["features"]}
    assert features["plan"]["type"] == "string" and features["plan"]["categories"] == ["basic", "plus", "pro"]
    assert features["score"] == {"name": "score", "type": "number", "nullable": False}


@pytest.mark.parametrize("kind", ["constant_target", "stumps"])
def test_degenerate_trees_end_in_a_correct_model_or_a_clear_refusal(kind, tmp_path):
    X, signal = numeric_data(1)
    if kind == "constant_target":
        model = XGBRegressor(n_estimators=5).fit(X, np.full(len(X), 3.5))
    else:
        model = XGBRegressor(n_estimators=5, max_depth=1, min_child_weight=1e9).fit(X, signal)
    model.save_model(tmp_path / "m.json")
    out = tmp_path / "out"
    result = run(tmp_path / "m.json", "--out", out)
    if result.returncode != 0:
        assert_refused(result, out)
        return
    from . import onnx_check

    metadata, session = onnx_check.load(out)
    fresh = pd.DataFrame(numeric_data(9)[0], columns=[f["name"] for f in metadata["features"]])
    got = onnx_check.predict(metadata, session, fresh)["prediction"].ravel()
    np.testing.assert_allclose(got, model.predict(fresh.to_numpy()), rtol=1e-5, atol=1e-5)


def test_verbose_shows_the_traceback(tmp_path):
    (tmp_path / "junk.joblib").write_bytes(b"junk")
    result = run(tmp_path / "junk.joblib", "--out", tmp_path / "out", "--verbose")
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_new_families_through_the_command_line(tmp_path):
    """A LightGBM text model and an outlier detector converted by the CLI; nearest neighbours
    on integer features refused by it with the reason (the KNN tie trap), one line, exit 5."""
    import lightgbm
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import KNeighborsClassifier

    X, signal = numeric_data(4)
    booster = lightgbm.train({"objective": "binary", "verbose": -1, "num_threads": 1}, lightgbm.Dataset(X, labels(signal, 2)), 20)
    booster.save_model(tmp_path / "gbm.txt")
    result = run(tmp_path / "gbm.txt", "--out", tmp_path / "gbm")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "gbm" / "model.json").read_text())["source"]["estimator"] == "LightGBMBoosterClassifier"

    joblib.dump(IsolationForest(n_estimators=20, random_state=0).fit(X), tmp_path / "iso.joblib")
    result = run(tmp_path / "iso.joblib", "--out", tmp_path / "iso")
    assert result.returncode == 0, result.stderr
    meta = json.loads((tmp_path / "iso" / "model.json").read_text())
    assert meta["task"] == "anomaly" and list(meta["onnx"]["outputs"]) == ["label", "decision_function"]

    grid = np.random.default_rng(4).integers(0, 4, size=(300, 4)).astype(float)
    joblib.dump(KNeighborsClassifier(n_neighbors=4).fit(grid, (grid.sum(axis=1) > 6).astype(int)), tmp_path / "knn.joblib")
    assert_refused(run(tmp_path / "knn.joblib", "--out", tmp_path / "knn"), tmp_path / "knn", "training rows", "tie", code=5)


def test_without_a_sample_the_report_says_what_only_real_rows_can_prove(numeric_model, tmp_path):
    X, _ = numeric_data(2)
    sample = tmp_path / "rows.npy"
    np.save(sample, X[:50])
    without = run(numeric_model, "--out", tmp_path / "a")
    with_sample = run(numeric_model, "--out", tmp_path / "b", "--sample", sample)
    assert without.returncode == 0 and with_sample.returncode == 0, without.stderr + with_sample.stderr
    assert "pass --sample with real rows" in without.stdout
    assert "pass --sample" not in with_sample.stdout


def test_feature_names_from_the_model_file_are_checked_as_the_runtime_checks_them(tmp_path):
    """Names the file carries become model.json's features: a repeated or empty one is refused
    here, in one line, not by the runtime after the artifact was written."""
    import lightgbm

    X, signal = numeric_data(3)
    booster = lightgbm.train({"objective": "binary", "verbose": -1, "num_leaves": 4},
                             lightgbm.Dataset(X[:, :3], labels(signal, 2), feature_name=["a", "b", "c"]), 5)
    text = booster.model_to_string().replace("feature_names=a b c", "feature_names=a a c")
    (tmp_path / "repeated.txt").write_text(text)
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "repeated.txt", "--out", out), out, "repeat 'a' (columns 0 and 1)", code=4)

    frame = pd.DataFrame(X[:, :3], columns=["", "b", "c"])
    joblib.dump(LogisticRegression().fit(frame, labels(signal, 2)), tmp_path / "empty.joblib")
    assert_refused(run(tmp_path / "empty.joblib", "--out", out), out, "feature name at column 0 is empty", code=4)


@pytest.mark.parametrize("kind,make", [
    ("floating-point", lambda signal: np.where(labels(signal, 2) == 1, 1.0, -2.0)),
    ("boolean", lambda signal: labels(signal, 2) == 1),
])
def test_float_or_boolean_class_labels_are_refused_up_front_naming_their_type(tmp_path, kind, make):
    X, signal = numeric_data(1)
    joblib.dump(LogisticRegression().fit(X, make(signal)), tmp_path / "m.joblib")
    out = tmp_path / "out"
    result = run(tmp_path / "m.joblib", "--out", out)
    assert_refused(result, out, f"fitted on {kind} class labels", "refit with integer or string labels", code=3)
    assert "parity" not in result.stderr


def test_a_nan_threshold_in_an_xgboost_file_is_one_line(tmp_path):
    X, signal = numeric_data(1)
    XGBClassifier(n_estimators=3, max_depth=2).fit(X, labels(signal, 2)).save_model(tmp_path / "m.json")
    model = json.loads((tmp_path / "m.json").read_text())
    tree = model["learner"]["gradient_booster"]["model"]["trees"][1]
    node = next(i for i, left in enumerate(tree["left_children"]) if left != -1)
    tree["split_conditions"][node] = float("nan")
    (tmp_path / "m.json").write_text(json.dumps(model))  # Python writes NaN, as a damaged file may hold it
    out = tmp_path / "out"
    result = run(tmp_path / "m.json", "--out", out)
    assert_refused(result, out, f"XGBoost tree 1, node {node}: the split threshold is not a number (NaN)", code=3)
    assert "Expecting value" not in result.stderr


def test_xgboost_feature_names_with_commas_and_index_like_names_convert(tmp_path):
    """Splits are read by feature index, never by parsing a name out of XGBoost's text dump."""
    X, signal = numeric_data(1)
    names = ["price, usd", "f0", "a=1,b"] + [f"x{i}" for i in range(3, X.shape[1])]
    frame = pd.DataFrame(X, columns=names)
    XGBClassifier(n_estimators=5, max_depth=3).fit(frame, labels(signal, 2)).save_model(tmp_path / "m.json")
    out = tmp_path / "out"
    result = run(tmp_path / "m.json", "--out", out)
    assert result.returncode == 0, result.stderr
    assert [f["name"] for f in json.loads((out / "model.json").read_text())["features"]] == names


def test_thresholds_that_share_a_float32_value_each_keep_their_own_branch(tmp_path):
    """Two splits on one feature, both written as the float32 nearest -0.33: one a hair below
    float32(-0.33), one half-way to the next float32 above it (where a split falls between two
    neighbouring float32 values that rounded data produced). -0.33 goes right at the first and
    left at the second in scikit-learn, and so in the converted trees: each node takes the floor
    of its own threshold, not of whichever threshold shares its float32 value."""
    import onnxruntime as ort
    from sklearn.tree import DecisionTreeRegressor

    below = -0.330000014975667
    between = (float(np.float32(-0.33)) + float(np.nextafter(np.float32(-0.33), np.float32(0)))) / 2
    model = DecisionTreeRegressor(max_depth=2).fit([[-1.0], [0.0], [1.0]], [0.0, 1.0, 2.0])
    tree = model.tree_
    assert list(tree.children_left[:3]) == [1, -1, 3]  # root, its left leaf, then the right split
    tree.threshold[0], tree.threshold[2] = below, between
    X = np.array([[-0.33], [-0.34], [-0.3], [float(np.float32(-0.33))]])
    assert model.predict(X).tolist() == [1.0, 0.0, 2.0, 1.0]
    joblib.dump(model, tmp_path / "m.joblib")
    out = tmp_path / "out"
    result = run(tmp_path / "m.joblib", "--out", out)
    assert result.returncode == 0, result.stderr
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    dtype = np.float64 if "double" in session.get_inputs()[0].type else np.float32
    np.testing.assert_array_equal(session.run(None, {name: X.astype(dtype)})[0].ravel(), model.predict(X))

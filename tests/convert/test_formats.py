"""Model formats people save: skops files, MLflow model directories (as MLflow itself wrote them,
tests/convert/fixtures/mlflow), and pickles written by other scikit-learn releases
(tests/convert/fixtures/versions). Each converts and serves, or is refused in one line."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeRegressor

from lambda_tabular.convert.load import load_model

from .coverage import served_difference
from .test_cli import assert_refused, run

# Each test converts a model file through the converter and its parity gate.
pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"
MLFLOW = FIXTURES / "mlflow"
# The real rows each MLflow fixture was trained on (make_fixtures.py).
ROWS = {
    "sklearn_skops": lambda: load_breast_cancer(as_frame=True).data,
    "sklearn_pickle": lambda: load_diabetes(as_frame=True).data,
    "xgboost": lambda: load_breast_cancer().data,
    "lightgbm": lambda: load_diabetes().data,
    "lightgbm_booster": lambda: load_breast_cancer().data,
}


@pytest.mark.parametrize("name", sorted(ROWS))
def test_mlflow_directories_convert_and_serve_their_real_rows(name, tmp_path):
    out = tmp_path / "out"
    result = run(MLFLOW / name, "--out", out)
    assert result.returncode == 0, result.stderr
    metadata = json.loads((out / "model.json").read_text())
    spec = (MLFLOW / name / "MLmodel").read_text()
    assert metadata["source"]["file"] in spec
    assert metadata["source"]["trained_with"], metadata["source"]
    worst, _ = served_difference(load_model(MLFLOW / name), metadata, out, ROWS[name]())
    assert worst <= 1e-4


def test_an_mlflow_skops_model_of_another_release_converts_with_that_release(tmp_path):
    """MLflow's default format, saved by scikit-learn 1.8.0: 1.9 cannot load its loss (a module
    it renamed), so the converter loads and proves it in 1.8.0."""
    import sklearn

    assert sklearn.__version__ != "1.8.0"
    out = tmp_path / "out"
    result = run(FIXTURES / "versions" / "mlflow-skops-sklearn-1.8.0", "--out", out)
    assert result.returncode == 0, result.stderr
    metadata = json.loads((out / "model.json").read_text())
    assert metadata["source"]["trained_with"] == {"scikit-learn": "1.8.0"}
    assert metadata["versions"]["scikit-learn"] == "1.8.0" and metadata["parity"]["passed"]


def test_an_mlflow_signature_names_features_the_model_was_fitted_without(tmp_path):
    out = tmp_path / "out"
    assert run(MLFLOW / "sklearn_pickle", "--out", out).returncode == 0
    names = [f["name"] for f in json.loads((out / "model.json").read_text())["features"]]
    assert names == list(load_diabetes(as_frame=True).data.columns)


def test_a_skops_file_converts_without_unpickling(tmp_path):
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), HistGradientBoostingClassifier(max_iter=20, random_state=0)).fit(X, y)
    sio.dump(model, tmp_path / "model.skops")
    out = tmp_path / "out"
    result = run(tmp_path / "model.skops", "--out", out)
    assert result.returncode == 0, result.stderr
    metadata = json.loads((out / "model.json").read_text())
    worst, _ = served_difference(model, metadata, out, X)
    assert worst <= 1e-12


def test_a_skops_file_holding_other_code_is_refused_by_name(tmp_path):
    X = np.abs(load_diabetes().data)
    y = load_diabetes().target
    model = make_pipeline(FunctionTransformer(np.sqrt), DecisionTreeRegressor(max_depth=3)).fit(X, y)
    model.steps[0][1].func = shutil.rmtree  # a callable outside the allowed libraries, never called
    sio.dump(model, tmp_path / "model.skops")
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "model.skops", "--out", out), out, "which are not loaded", "shutil.rmtree", code=2)


def test_a_corrupt_skops_file_is_one_line(tmp_path):
    (tmp_path / "model.skops").write_bytes(b"PK\x03\x04 not really a zip")
    out = tmp_path / "out"
    assert_refused(run(tmp_path / "model.skops", "--out", out), out, "not a readable skops file", code=2)


def test_a_skops_tree_pointing_outside_itself_is_refused_before_predict(tmp_path):
    X, y = load_diabetes(return_X_y=True)
    sio.dump(DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, y), tmp_path / "good.skops")
    crafted = tmp_path / "model.skops"
    with zipfile.ZipFile(tmp_path / "good.skops") as source, zipfile.ZipFile(crafted, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith(".npy"):
                array = np.load(__import__("io").BytesIO(data), allow_pickle=False)
                if array.dtype.names and "left_child" in array.dtype.names:
                    array["left_child"][0] = 10**6
                    buffer = __import__("io").BytesIO()
                    np.save(buffer, array, allow_pickle=False)
                    data = buffer.getvalue()
            target.writestr(item, data)
    out = tmp_path / "out"
    assert_refused(run(crafted, "--out", out), out, "point outside the tree", code=2)


def _mlflow_dir(tmp_path: Path, mlmodel: str, files: dict[str, bytes] | None = None) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text(mlmodel)
    for name, data in (files or {}).items():
        (folder / name).write_bytes(data)
    return folder


@pytest.mark.parametrize("mlmodel,phrase,code", [
    ("flavors:\n  pytorch:\n    model_data: data\n", "MLflow flavor pytorch is not supported", 3),
    ("flavors:\n  sklearn:\n    pickled_model: model.pkl\n", "names model.pkl, which is not there", 2),
    ("flavors:\n  sklearn:\n    pickled_model: ../../etc/passwd\n", "outside the directory", 2),
    ("flavors: [unclosed\n", "is not readable YAML", 2),
    ("just: text\n", "has no flavors", 2),
])
def test_bad_mlflow_directories_are_one_line(tmp_path, mlmodel, phrase, code):
    folder = _mlflow_dir(tmp_path, mlmodel)
    out = tmp_path / "out"
    assert_refused(run(folder, "--out", out), out, phrase, code=code)


@pytest.mark.parametrize("release", ["1.8.0", "1.6.1"])
@pytest.mark.parametrize("kind", ["hgb", "column-transformer", "hgb-categories"])
def test_a_model_is_converted_and_proven_with_the_release_that_saved_it(tmp_path, release, kind):
    """scikit-learn 1.8.0 and 1.6.1, whose gradient boosting models do not unpickle in 1.9 (their
    loss lives in a module 1.9 renamed), nor 1.6.1's ColumnTransformer in later releases: each is
    installed once, from the package index, and the model is loaded and proven by its own release."""
    out = tmp_path / "out"
    result = run(FIXTURES / "versions" / f"{kind}-sklearn-{release}.joblib", "--out", out)
    assert result.returncode == 0, result.stderr
    metadata = json.loads((out / "model.json").read_text())
    assert metadata["versions"]["scikit-learn"] == release
    assert metadata["source"]["trained_with"] == {"scikit-learn": release}
    assert "warning" not in result.stdout
    if kind == "hgb-categories":  # pandas category columns, encoded by the estimator of that release
        assert [f["type"] for f in metadata["features"][:2]] == ["string", "string"]
        assert metadata["onnx"]["tree_form"] == "TreeEnsemble-opset5"


def test_the_installed_release_can_be_asked_for_and_says_what_differs(tmp_path):
    import sklearn

    out = tmp_path / "out"
    result = run(FIXTURES / "versions" / "hgb-sklearn-1.9.0.joblib", "--out", out, "--sklearn-version", "installed")
    assert result.returncode == 0, result.stderr
    assert f"saved by scikit-learn 1.9.0 and is read here by {sklearn.__version__}" in result.stdout
    metadata = json.loads((out / "model.json").read_text())
    assert metadata["source"]["trained_with"] == {"scikit-learn": "1.9.0"}
    assert metadata["versions"]["scikit-learn"] == sklearn.__version__


@pytest.mark.parametrize("name,phrase", [
    ("column-transformer-sklearn-1.8.0.joblib", "--sklearn-version 1.8.0 converts it"),
    ("column-transformer-sklearn-1.6.1.joblib", "--sklearn-version 1.6.1 converts it"),
])
def test_a_model_the_installed_release_cannot_read_names_both_releases(tmp_path, name, phrase):
    import sklearn

    out = tmp_path / "out"
    result = run(FIXTURES / "versions" / name, "--out", out, "--sklearn-version", "installed")
    assert_refused(result, out, phrase, sklearn.__version__, code=2)


@pytest.mark.parametrize("release,phrase", [
    ("9.9.9", "scikit-learn 9.9.9 cannot be installed here"),
    ("1.x", "expected a release such as 1.9.1"),
])
def test_a_release_that_cannot_be_had_is_one_line(tmp_path, release, phrase):
    out = tmp_path / "out"
    result = run(FIXTURES / "versions" / "hgb-sklearn-1.9.1.joblib", "--out", out, "--sklearn-version", release)
    assert_refused(result, out, phrase, code=2)

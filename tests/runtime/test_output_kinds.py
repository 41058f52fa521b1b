"""Answers that name what their numbers are: an outlier detector's label and decision function,
a binary SVC's one-column decision function, a hard-voting classifier's labels alone; and
model.json contracts that name the wrong outputs, refused at init."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import joblib
import numpy as np
import pytest

from lambda_tabular.runtime.errors import ModelError

from .runtime_support import make_app

FEATURES = ["a", "b", "c"]


def _converted(tmp_path_factory, name: str, model) -> Path:
    from lambda_tabular.convert.build import Request, build

    work = tmp_path_factory.mktemp(name)
    joblib.dump(model, work / "model.joblib")
    build(Request(work / "model.joblib", work / "out", features=FEATURES, name=name), log=lambda *a: None)
    return work / "out"


def _data(seed: int, rows: int = 400):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 3))
    return X, (X @ [1.0, -0.5, 0.3] > 0).astype(int)


@pytest.fixture(scope="module")
def outliers(tmp_path_factory):
    from sklearn.ensemble import IsolationForest

    model = IsolationForest(n_estimators=30, random_state=0).fit(_data(1)[0])
    return model, _converted(tmp_path_factory, "outliers", model)


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    from sklearn.svm import SVC

    model = SVC().fit(*_data(2))
    return model, _converted(tmp_path_factory, "svc", model)


@pytest.fixture(scope="module")
def votes(tmp_path_factory):
    from sklearn.ensemble import VotingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.tree import DecisionTreeClassifier

    model = VotingClassifier(
        [("lr", LogisticRegression()), ("nb", GaussianNB()), ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))],
        voting="hard",
    ).fit(*_data(3))
    return model, _converted(tmp_path_factory, "votes", model)


ROWS = _data(9, rows=6)[0]


def test_outlier_detector_answers_its_label_and_decision_function(outliers):
    model, directory = outliers
    answer = make_app(directory)({"instances": ROWS.tolist()})
    assert set(answer) == {"predictions", "decision_function", "model"}
    assert answer["predictions"] == model.predict(ROWS).tolist()
    np.testing.assert_allclose(answer["decision_function"], model.decision_function(ROWS), atol=1e-5)
    assert all((d < 0) == (p == -1) for d, p in zip(answer["decision_function"], answer["predictions"], strict=True))


def test_open_inference_names_the_same_outputs_and_can_pick_one(outliers):
    _, directory = outliers
    body = {"inputs": [{"name": "X", "shape": [6, 3], "datatype": "FP64", "data": ROWS.tolist()}],
            "outputs": [{"name": "decision_function"}]}
    answer = make_app(directory)(body)
    assert [o["name"] for o in answer["outputs"]] == ["decision_function"]
    assert answer["outputs"][0]["shape"] == [6]
    refused = make_app(directory)({**body, "outputs": [{"name": "probabilities"}]})
    assert refused["error"]["code"] == "invalid_request" and "decision_function" in refused["error"]["message"]


def test_outlier_counts_are_model_metrics(outliers):
    from lambda_tabular.runtime import model_metrics

    model, directory = outliers
    app = make_app(directory)
    summary = model_metrics.for_task(app.model.schema).summarize(app.model.predict(ROWS.astype(app.model.schema.input_dtype)))
    labels = model.predict(ROWS).tolist()
    assert sorted(summary.classes) == sorted((str(c), labels.count(c)) for c in set(labels))
    assert summary.values == {}  # no probabilities: no TopProbability counts


def test_binary_svc_answers_one_decision_value_per_row_as_scikit_learn(svc):
    model, directory = svc
    answer = make_app(directory)({"instances": ROWS.tolist()})
    assert "probabilities" not in answer and answer["classes"] == [0, 1]
    np.testing.assert_allclose(answer["decision_function"], model.decision_function(ROWS), atol=1e-5)
    assert answer["predictions"] == model.predict(ROWS).tolist()


def test_hard_voting_answers_labels_only(votes):
    model, directory = votes
    answer = make_app(directory)({"instances": ROWS.tolist()})
    assert set(answer) == {"predictions", "classes", "model"}
    assert answer["predictions"] == model.predict(ROWS).tolist()


def _edited(directory: Path, tmp_path: Path, edit) -> Path:
    """A copy of the artifact with model.json edited and resealed, so only the contract is at stake."""
    from lambda_tabular.runtime import integrity

    out = tmp_path / "edited"
    shutil.copytree(directory, out)
    meta = json.loads((out / "model.json").read_text())
    edit(meta)
    meta["integrity"] = integrity.integrity_block(meta, meta["onnx"]["sha256"])
    (out / "model.json").write_text(json.dumps(meta))
    return out


@pytest.mark.parametrize("model,edit,message", [
    ("outliers", lambda m: m["onnx"]["outputs"].update(probabilities="x"), "names 'probabilities', which anomaly models do not serve"),
    ("svc", lambda m: m["onnx"]["outputs"].update(probabilities="x"), "names both probabilities and decision_function"),
    ("outliers", lambda m: m["onnx"]["outputs"].pop("decision_function"), "onnx.outputs.decision_function is missing"),
    ("outliers", lambda m: m["reference"].pop("decision_function"), "reference.decision_function must be a list"),
    ("svc", lambda m: m["onnx"]["outputs"].pop("label"), "onnx.outputs.label is missing"),
    ("votes", lambda m: m["onnx"]["outputs"].update(prediction="x"), "names 'prediction', which classification models do not serve"),
])
def test_model_json_naming_the_wrong_outputs_is_refused_at_init(request, tmp_path, model, edit, message):
    _, directory = request.getfixturevalue(model)
    with pytest.raises(ModelError, match=message.replace(".", r"\.")):
        make_app(_edited(directory, tmp_path, edit))

"""Damaged native model files: each is one line and exit 2, never a signal, a hang or a
traceback; the converter's own process never reads a file its library cannot."""

from __future__ import annotations

import copy
import json
import time

import lightgbm
import pytest
import xgboost
from sklearn.datasets import load_breast_cancer

from .test_cli import assert_refused, run


@pytest.fixture(scope="module")
def lightgbm_text():
    X, y = load_breast_cancer(return_X_y=True)
    return lightgbm.train({"objective": "binary", "verbose": -1, "num_leaves": 7}, lightgbm.Dataset(X, y), 20).model_to_string()


@pytest.fixture(scope="module")
def xgboost_json(tmp_path_factory):
    X, y = load_breast_cancer(return_X_y=True)
    path = tmp_path_factory.mktemp("xgb") / "good.json"
    xgboost.XGBClassifier(n_estimators=5, max_depth=3).fit(X, y).save_model(path)
    return json.loads(path.read_text())


# Each test converts a model file through the converter and its parity gate.
pytestmark = pytest.mark.slow

LIGHTGBM_DAMAGE = {
    "truncated at 50%": (lambda t: t[: len(t) // 2], "crashed reading it"),
    "truncated at 99%": (lambda t: t[: len(t) * 99 // 100], "crashed reading it"),
    "truncated after the header": (lambda t: t[: t.index("Tree=0")], "crashed reading it"),
    "a tree longer than tree_sizes says": (lambda t: t.replace("Tree=3\n", "Tree=3\nextra=1\n", 1), "crashed reading it"),
    "a NUL byte": (lambda t: t[:5000] + "\0" + t[5000:], "a NUL byte at offset 5000"),
}


@pytest.mark.parametrize("damage", list(LIGHTGBM_DAMAGE))
def test_damaged_lightgbm_files_are_one_line(lightgbm_text, tmp_path, damage):
    edit, phrase = LIGHTGBM_DAMAGE[damage]
    path = tmp_path / "model.txt"
    path.write_text(edit(lightgbm_text))
    out = tmp_path / "out"
    started = time.monotonic()
    result = run(path, "--out", out)
    assert time.monotonic() - started < 60
    assert_refused(result, out, phrase, code=2)


def _trees(model):
    return model["learner"]["gradient_booster"]["model"]["trees"]


XGBOOST_DAMAGE = {
    "a child out of range": (lambda m: _trees(m)[0]["left_children"].__setitem__(0, 999), "has a child outside the tree"),
    "a cycle": (lambda m: _trees(m)[0]["right_children"].__setitem__(1, 0), "child outside the tree"),
    "num_feature understated": (lambda m: m["learner"]["learner_model_param"].__setitem__("num_feature", "3"), "beyond num_feature 3"),
}


@pytest.mark.parametrize("damage", list(XGBOOST_DAMAGE))
def test_damaged_xgboost_files_are_one_line(xgboost_json, tmp_path, damage):
    edit, phrase = XGBOOST_DAMAGE[damage]
    model = copy.deepcopy(xgboost_json)
    edit(model)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model))
    out = tmp_path / "out"
    assert_refused(run(path, "--out", out), out, phrase, code=2)


def test_a_reader_that_does_not_finish_is_stopped(lightgbm_text, tmp_path, monkeypatch):
    monkeypatch.setenv("LAMBDA_TABULAR_NATIVE_TIMEOUT_S", "0.001")
    path = tmp_path / "model.txt"
    path.write_text(lightgbm_text)
    out = tmp_path / "out"
    assert_refused(run(path, "--out", out), out, "did not finish reading it in 0.001 s", code=2)

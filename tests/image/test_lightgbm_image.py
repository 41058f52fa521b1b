"""A LightGBM model, from its native text file to answers of the lean image under the emulator:
the convert stage imports lightgbm (and finds a libgomp), the runtime stage carries none of it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lambda_tabular.deploy.aws.invoke import invoke, lambda_client
from lambda_tabular.deploy.local import container as local

from ..convert.models import labels, numeric_data
from .test_image import FORBIDDEN, in_image

FEATURES = ["ph", "turbidity", "tds", "temperature", "flow"]


@pytest.fixture(scope="module")
def lightgbm_model(tmp_path_factory):
    import lightgbm

    X, signal = numeric_data(seed=11, missing=0.05)
    frame = pd.DataFrame(X, columns=FEATURES)
    params = {"objective": "multiclass", "num_class": 3, "num_leaves": 15, "verbose": -1, "num_threads": 1}
    booster = lightgbm.train(params, lightgbm.Dataset(frame, labels(signal, 3)), num_boost_round=40)
    path = tmp_path_factory.mktemp("lightgbm") / "classes.txt"
    booster.save_model(path)
    return path, booster


@pytest.fixture(scope="module")
def lightgbm_image(docker_engine, lightgbm_model):
    from lambda_tabular.deploy.package.image import ImageRequest, build_image

    path, _ = lightgbm_model
    return build_image(ImageRequest(model=path, tag="lambda-tabular/lightgbm:test", name="classes"), log=lambda *a: None)


def test_lightgbm_image_answers_like_lightgbm(lightgbm_image, lightgbm_model):
    _, booster = lightgbm_model
    X, _ = numeric_data(seed=12, rows=40, missing=0.05)
    rows = [{k: (None if np.isnan(v) else v) for k, v in zip(FEATURES, row, strict=True)} for row in X.tolist()]
    running = local.start(lightgbm_image["image"])
    try:
        answer = invoke(lambda_client(running.endpoint), json.dumps({"instances": rows}).encode())
    finally:
        running.stop()
    assert answer.status == 200 and answer.function_error is None, answer
    expected = booster.predict(pd.DataFrame(X, columns=FEATURES))
    np.testing.assert_allclose(np.asarray(answer.body["probabilities"]), expected, atol=1e-5)
    assert answer.body["predictions"] == np.argmax(expected, axis=1).tolist()


def test_lightgbm_image_carries_no_training_library(lightgbm_image):
    found = in_image(
        lightgbm_image["image"],
        f"import importlib.util, json; print(json.dumps([m for m in {(*FORBIDDEN, 'lightgbm')!r} "
        "if importlib.util.find_spec(m)]))",
    )
    assert json.loads(found) == []

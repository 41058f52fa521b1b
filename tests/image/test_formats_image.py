"""Models as users hand them over, through `make image`: an MLflow model directory, and a pickle
of another scikit-learn release than the converter's, which the image's convert stage loads
and proves with that release (the converter's own cannot even unpickle it)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

from lambda_tabular.deploy.aws.invoke import invoke, lambda_client
from lambda_tabular.deploy.local import container as local

FIXTURES = Path(__file__).resolve().parents[1] / "convert" / "fixtures"


def _build(model: Path, tag: str) -> dict:
    from lambda_tabular.deploy.package.image import ImageRequest, build_image

    return build_image(ImageRequest(model=model, tag=tag, name="formats"), log=lambda *a: None)


def _answer(image: str, rows: list[dict]) -> dict:
    running = local.start(image)
    try:
        answer = invoke(lambda_client(running.endpoint), json.dumps({"instances": rows}).encode())
    finally:
        running.stop()
    assert answer.status == 200 and answer.function_error is None, answer
    return answer.body


def _model_json(image: str) -> dict:
    from .test_image import in_image

    return json.loads(in_image(image, "print(open('/var/task/model/model.json').read())"))


@pytest.mark.docker
def test_a_model_of_another_release_is_converted_in_the_image_with_that_release(docker_engine):
    report = _build(FIXTURES / "versions" / "column-transformer-sklearn-1.8.0.joblib", "lambda-tabular/formats:sklearn-1.8.0")
    metadata = _model_json(report["image"])
    assert metadata["versions"]["scikit-learn"] == "1.8.0"
    assert metadata["source"]["trained_with"] == {"scikit-learn": "1.8.0"}
    frame = load_diabetes(as_frame=True).data.head(20)
    frame["sex"] = frame["sex"].map(lambda v: "a" if v > 0 else "b")
    body = _answer(report["image"], frame.to_dict(orient="records"))
    assert len(body["predictions"]) == 20


@pytest.mark.docker
def test_an_mlflow_directory_is_a_model(docker_engine):
    report = _build(FIXTURES / "mlflow" / "sklearn_skops", "lambda-tabular/formats:mlflow")
    assert _model_json(report["image"])["source"]["file"] == "model.skops"
    frame = load_breast_cancer(as_frame=True).data.head(20)
    body = _answer(report["image"], frame.to_dict(orient="records"))
    from lambda_tabular.convert.load import load_model

    expected = load_model(FIXTURES / "mlflow" / "sklearn_skops").predict_proba(frame)
    np.testing.assert_allclose(np.asarray(body["probabilities"]), expected, atol=1e-6)

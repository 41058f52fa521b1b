"""Which ECR repository and tag `push` picks for an image name."""

from __future__ import annotations

import pytest

from lambda_tabular.deploy.aws.ecr import _split_tag, default_repository


@pytest.mark.parametrize("image, repository, tag", [
    ("lambda-tabular/water-quality:test", "lambda-tabular-water-quality", "test"),
    ("lambda-tabular/water-quality", "lambda-tabular-water-quality", "latest"),
    ("127.0.0.1:5000/lambda-tabular/churn:2", "lambda-tabular-churn", "2"),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/lambda-tabular-churn:3", "lambda-tabular-churn", "3"),
    ("lambda-tabular/churn:4@sha256:" + "0" * 64, "lambda-tabular-churn", "4"),
])
def test_default_repository_and_tag(image, repository, tag):
    assert (default_repository(image), _split_tag(image)[1]) == (repository, tag)

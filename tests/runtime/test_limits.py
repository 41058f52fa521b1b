"""The row limit keeps every answer under Lambda's 6 MB response limit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from runtime.events import Direct, HttpApiV2
from runtime.model import Prediction
from runtime.protocols import instances, open_inference
from runtime.protocols.batch import MAX_ECHO_CHARS, RESPONSE_LIMIT, Batch, rows_that_fit

from .runtime_support import load_event, make_app, with_body

MB = 1024 * 1024


def encoded(answer: dict) -> int:
    """Bytes of an answer as the runtime client sends it: escaped to ASCII (Python 3.11 and
    before) or UTF-8 unescaped (3.12+), whichever is longer."""
    return max(len(json.dumps(answer).encode()), len(json.dumps(answer, ensure_ascii=False).encode("utf-8")))


def sizes(response: dict) -> tuple[int, int]:
    """Bytes of the answer as the Lambda runtime client sends it, direct and as an HTTP event."""
    return encoded(Direct.respond(200, response)), encoded(HttpApiV2.respond(200, response))


def test_ten_thousand_rows_of_twelve_classes_fit(grades):
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(10_000, 4)).tolist()
    assert grades.max_rows == 10_000
    answer = grades({"instances": rows})
    assert len(answer["predictions"]) == 10_000
    direct, http = sizes(answer)
    oip = grades({"inputs": [{"name": "X", "shape": [10_000, 4], "datatype": "FP64", "data": rows}]})
    oip_direct, oip_http = sizes(oip)
    print(f"\n10,000 rows x 12 classes: v1 {direct / MB:.2f} MB direct, {http / MB:.2f} MB as HTTP; "
          f"v2 {oip_direct / MB:.2f} MB direct, {oip_http / MB:.2f} MB as HTTP")
    assert max(direct, http, oip_direct, oip_http) < RESPONSE_LIMIT


def test_the_limit_shrinks_for_many_classes(grades):
    many = [f"a_rather_long_class_name_{i:04d}" for i in range(300)]
    schema = grades.model.schema._replace(classes=many)
    rows = rows_that_fit(schema)
    assert 500 < rows < 1000
    # The worst case: every probability at its longest JSON form, every label the longest.
    prediction = Prediction(
        labels=np.array([many[-1]] * rows, dtype=object),
        probabilities=np.full((rows, len(many)), -1.1754944e-38, dtype=np.float32),
    )
    # The longest id a request may have echoed, of the characters that escape longest.
    batch = Batch(inputs=None, rows=rows, options={"id": "\U0001f600" * MAX_ECHO_CHARS})
    for protocol in (instances, open_inference):
        assert max(sizes(protocol.respond(batch, prediction, schema))) <= RESPONSE_LIMIT


def test_regressors_allow_more_rows(ridge):
    assert rows_that_fit(ridge.model.schema) > 200_000
    assert ridge.max_rows == 10_000


def test_max_rows_setting_lowers_the_limit(water_dir):
    app = make_app(water_dir, max_rows=3)
    assert app.max_rows == 3
    answer = app({"instances": [[7, 2, 400, 18]] * 4})
    assert answer["error"]["code"] == "too_many_rows"
    assert app({"instances": [[7, 2, 400, 18]] * 3})["predictions"]


@pytest.mark.parametrize("name", ["http-api-v2", "apigw-v1-proxy"])
def test_a_refused_batch_over_http(water_dir, name):
    app = make_app(water_dir, max_rows=2)
    response = app(with_body(load_event(name), {"instances": [[7, 2, 400, 18]] * 3}))
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["code"] == "too_many_rows"


def test_an_echoed_id_cannot_grow_the_answer(water):
    """A 2 MB id once gave a 7 MB answer; ids are now refused beyond MAX_ECHO_CHARS characters."""
    good = [{"name": "X", "shape": [1, 4], "datatype": "FP64", "data": [7.0, 2.0, 400.0, 18.0]}]
    assert water({"id": "\x01" * (2 * 1024 * 1024), "inputs": good})["error"]["code"] == "invalid_request"
    answer = water({"id": "\x01" * MAX_ECHO_CHARS, "inputs": good})
    assert answer["id"] == "\x01" * MAX_ECHO_CHARS
    assert max(sizes(answer)) < 6 * 1024 + 4096

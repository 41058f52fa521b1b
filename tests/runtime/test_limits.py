"""The row limit keeps every answer under Lambda's 6 MB response limit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lambda_tabular.runtime.events import Direct, HttpApiV2
from lambda_tabular.runtime.model import Prediction
from lambda_tabular.runtime.protocols import instances, open_inference
from lambda_tabular.runtime.protocols.batch import MAX_ECHO_CHARS, RESPONSE_LIMIT, Batch, rows_that_fit

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


# -- every answer measured before it is returned -------------------------------------------------

def test_the_measure_of_an_answer_is_never_below_what_the_runtime_client_sends(grades, mixed, ridge):
    from lambda_tabular.runtime.response_size import json_bytes_at_most

    rng = np.random.default_rng(1)
    for app, width in ((grades, 4), (ridge, 5)):
        rows = rng.normal(size=(300, width)).tolist()
        for name in ("direct", "http-api-v2", "alb"):
            event = {"instances": rows} if name == "direct" else with_body(load_event(name), {"instances": rows})
            response = app(event)
            assert "error" not in response and "error" not in response.get("body", "")
            measured, sent = json_bytes_at_most(response), encoded(response)
            assert sent <= measured <= sent + 24 * 300 * 13  # only the numbers are counted at their longest
    labels_only = {"predictions": ["é", "\U0001f600", 'say "hi"', 7, None, True], "model": {"name": "\x01"}}
    assert json_bytes_at_most(labels_only) == encoded(labels_only)  # no floats: exact


def answer_limit_only(app_dir, response_limit):
    """An app whose row limit lets through any batch, as if the row limit were wrong: the measure
    of each answer is all that stands between it and the event source."""
    from lambda_tabular.runtime.protocols.batch import RowLimit

    app = make_app(app_dir)
    app.row_limits[response_limit] = RowLimit(10**9, response_limit)
    return app


@pytest.mark.parametrize("name", ["direct", "http-api-v2", "alb", "alb-multi-value-headers"])
def test_an_answer_that_would_not_fit_is_a_413_naming_the_limit_and_the_rows_that_fit(grades_dir, name):
    from lambda_tabular.runtime.protocols.batch import ALB_RESPONSE, LAMBDA_RESPONSE

    limit = ALB_RESPONSE if name.startswith("alb") else LAMBDA_RESPONSE
    app = answer_limit_only(grades_dir, limit)
    rows = np.random.default_rng(2).normal(size=(4 * rows_that_fit(app.model.schema, limit.bytes), 4)).tolist()

    def ask(batch):
        event = {"instances": batch} if name == "direct" else with_body(load_event(name), {"instances": batch})
        response = app(event)
        if name == "direct":
            return response.get("statusCode", 200), response, response
        return response["statusCode"], json.loads(response["body"]), response

    status, body, response = ask(rows)
    assert status == 413 and body["error"]["code"] == "answer_too_large"
    if name.startswith("alb"):
        assert response["statusDescription"] == "413 Content Too Large"
    message = body["error"]["message"]
    assert message.startswith(f"instances: the answer to {len(rows)} rows takes up to ")
    assert f"more than {limit.name} ({limit.bytes} bytes)" in message
    fit = int(message.split("about ")[1].split(" rows")[0])
    # The estimate is at least the row limit's pessimistic count, and that many rows are answered within the limit.
    assert rows_that_fit(app.model.schema, limit.bytes) <= fit < len(rows)
    status, body, response = ask(rows[:fit])
    assert status == 200 and encoded(response) <= limit.bytes


def test_open_inference_names_its_own_field(ridge_dir):
    from lambda_tabular.runtime.protocols.batch import LAMBDA_RESPONSE

    app = answer_limit_only(ridge_dir, LAMBDA_RESPONSE)
    n = 2 * rows_that_fit(app.model.schema)
    answer = app({"inputs": [{"name": "X", "shape": [n, 5], "datatype": "FP64", "data": [0.5] * (5 * n)}]})
    assert answer["statusCode"] == 413 and answer["error"]["message"].startswith(f"inputs: the answer to {n} rows")

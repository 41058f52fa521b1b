"""KServe / TF-Serving v1 requests: {"instances": [...]}, every row form and every refusal."""

from __future__ import annotations

import numpy as np
import pytest

from .runtime_support import NOT_A_REQUEST, reference_rows

WATER = ["ph", "turbidity", "tds", "temperature"]


def error(app, body) -> tuple[str, str]:
    answer = app(body)
    assert set(answer) == {"statusCode", "error"}, answer
    assert answer["statusCode"] == 400
    return answer["error"]["code"], answer["error"]["message"]


def test_list_rows_answer_as_the_reference_recorded(water):
    reference = water.model.schema.reference
    answer = water({"instances": reference_rows(water)})
    assert answer["predictions"] == reference["labels"]
    np.testing.assert_allclose(answer["probabilities"], reference["probabilities"], atol=1e-6)
    assert answer["classes"] == [0, 1]
    assert answer["model"] == {"name": "water_quality", "version": "7"}


def test_object_rows_in_any_key_order_answer_as_list_rows(water):
    rows = reference_rows(water)
    objects = [dict(reversed(list(zip(WATER, row, strict=True)))) for row in rows]
    assert water({"instances": objects}) == water({"instances": rows})


def test_list_and_object_rows_mix(water):
    rows = reference_rows(water)[:2]
    mixed = [rows[0], dict(zip(WATER, rows[1], strict=True))]
    assert water({"instances": mixed}) == water({"instances": rows})


def test_integers_are_numbers(water):
    answer = water({"instances": [[7, 2, 400, 18]]})
    assert answer["predictions"] in ([0], [1])


def test_null_and_nan_are_missing_values_where_nullable(water):
    with_null = water({"instances": [[None, 2.4, 380.0, 18.5]]})
    with_nan = water({"instances": [[float("nan"), 2.4, 380.0, 18.5]]})
    assert with_null == with_nan
    assert len(with_null["probabilities"][0]) == 2


def test_string_features_and_open_categories(mixed):
    row = {"age": 41, "income": 52_000, "score": 0.3, "plan": "pro", "region": "east"}
    answer = mixed({"instances": [row, {**row, "region": "atlantis"}, {**row, "income": None}]})
    assert len(answer["predictions"]) == 3
    assert all(abs(sum(p) - 1) < 1e-6 for p in answer["probabilities"])


def test_reference_rows_of_a_columns_model(mixed):
    reference = mixed.model.schema.reference
    answer = mixed({"instances": reference_rows(mixed)})
    assert answer["predictions"] == reference["labels"]
    np.testing.assert_allclose(answer["probabilities"], reference["probabilities"], atol=1e-6)


def test_string_labels(grades):
    answer = grades({"instances": reference_rows(grades)})
    assert answer["predictions"] == grades.model.schema.reference["labels"]
    assert answer["classes"] == [f"grade_{c}" for c in "abcdefghijkl"]
    pairs = zip(answer["probabilities"], answer["predictions"], strict=True)
    assert all(answer["classes"][int(np.argmax(p))] == label for p, label in pairs)


def test_regressor_answers_numbers_only(ridge):
    answer = ridge({"instances": reference_rows(ridge)})
    assert set(answer) == {"predictions", "model"}
    np.testing.assert_allclose(answer["predictions"], ridge.model.schema.reference["predictions"], rtol=1e-5)


@pytest.mark.parametrize(
    "instances, code, message",
    [
        ({"ph": 7}, "invalid_request", "instances: expected a list of rows, got an object"),
        (None, "invalid_request", "instances: expected a list of rows, got null"),
        ([], "empty_batch", "instances: expected at least one row, got none"),
        ([[7, 2, 400, 18], "7,2,400,18"], "invalid_row",
         'instances[1]: expected a list of 4 values or an object keyed by feature name, got string "7,2,400,18"'),
        ([[7, 2, 400, 18], 7], "invalid_row",
         "instances[1]: expected a list of 4 values or an object keyed by feature name, got number 7"),
        ([[7, 2, 400]], "wrong_row_length",
         "instances[0]: expected 4 values in feature order (ph, turbidity, tds, temperature), got 3"),
        ([[7, 2, 400, 18, 1]], "wrong_row_length",
         "instances[0]: expected 4 values in feature order (ph, turbidity, tds, temperature), got 5"),
        ([{"ph": 7, "turbidity": 2, "tds": 400, "temperature": 18, "colour": "blue"}], "unknown_feature",
         'instances[0]: unknown feature "colour"; the features are ph, turbidity, tds, temperature'),
        ([{"ph": 7, "turbidity": 2, "temperature": 18}], "missing_feature", 'instances[0]: missing feature "tds"'),
        ([[7, 2, 400, 18], [7, 2, 400, 18], [7, 2, 400, 18], [7, 2, "abc", 18]], "wrong_type",
         'instances[3].tds: expected a number, got string "abc"'),
        ([[7, 2, "400", 18]], "wrong_type", 'instances[0].tds: expected a number, got string "400"'),
        ([[True, 2, 400, 18]], "wrong_type", "instances[0].ph: expected a number, got boolean true"),
        ([[7, [2], 400, 18]], "wrong_type", "instances[0].turbidity: expected a number, got an array"),
        ([[7, 2, {"v": 400}, 18]], "wrong_type", "instances[0].tds: expected a number, got an object"),
        ([[7, 2, 400, float("inf")]], "non_finite", "instances[0].temperature: expected a finite number, got Infinity"),
        ([[7, 2, float("-inf"), 18]], "non_finite", "instances[0].tds: expected a finite number, got -Infinity"),
        ([[7, 2, 10**400, 18]], "non_finite",
         "instances[0].tds: expected a finite number, got an integer too large for a float"),
    ],
)
def test_refusals_name_the_row_and_the_feature(water, instances, code, message):
    assert error(water, {"instances": instances}) == (code, message)


@pytest.mark.parametrize(
    "row, code, message",
    [
        ({"age": 41, "income": 1, "score": 0.3, "plan": "gold", "region": "east"}, "unknown_category",
         'instances[0].plan: expected one of "basic", "plus", "pro", got string "gold"'),
        ({"age": 41, "income": 1, "score": 0.3, "plan": 3, "region": "east"}, "wrong_type",
         "instances[0].plan: expected a string, got number 3"),
        ({"age": 41, "income": 1, "score": 0.3, "plan": None, "region": "east"}, "missing_value",
         "instances[0].plan: expected a string, got null; plan does not accept missing values"),
        ({"age": 41, "income": 1, "score": 0.3, "plan": "pro", "region": "\u0000"}, "wrong_type",
         'instances[0].region: got string "\\u0000", which stands for null here; send null'),
        ({"age": "41", "income": 1, "score": 0.3, "plan": "pro", "region": "east"}, "wrong_type",
         'instances[0].age: expected a number, got string "41"'),
    ],
)
def test_refusals_on_string_features(mixed, row, code, message):
    assert error(mixed, {"instances": [row]}) == (code, message)


def test_null_in_a_string_feature_is_answered_as_the_original_answers_a_gap(mixed, mixed_dir):
    """region's encoder ignores values it did not see; the converter proved that a gap there is
    answered as scikit-learn answers NaN, so null is served (plan's encoder refuses, above)."""
    import joblib
    import pandas as pd

    row = {"age": 41.0, "income": 52_000.0, "score": 0.3, "plan": "pro", "region": None}
    answer = mixed({"instances": [row]})
    model = joblib.load(mixed_dir.parent / "mixed.joblib")
    expected = model.predict_proba(pd.DataFrame([{**row, "region": np.nan}]).astype({"region": object}))
    np.testing.assert_allclose(answer["probabilities"], expected, atol=1e-6)
    assert answer["probabilities"] == mixed({"instances": [{**row, "region": "nowhere"}]})["probabilities"]


def test_missing_value_where_the_feature_is_not_nullable(ridge):
    rows = reference_rows(ridge)
    rows[2][1] = None
    assert error(ridge, {"instances": rows}) == (
        "missing_value", "instances[2].f1: expected a number, got null; f1 does not accept missing values"
    )
    rows[2][1] = float("nan")
    assert error(ridge, {"instances": rows})[1] == (
        "instances[2].f1: expected a number, got NaN; f1 does not accept missing values"
    )


def test_too_many_rows(water):
    rows = [[7, 2, 400, 18]] * (water.max_rows + 1)
    assert error(water, {"instances": rows}) == (
        "too_many_rows",
        f"instances: {water.max_rows + 1} rows, more than the {water.max_rows} a request may hold "
        "(the answer must fit Lambda's 6 MB response limit); split the batch",
    )


def test_a_batch_at_the_limit_is_served(water):
    answer = water({"instances": [[7, 2, 400, 18]] * water.max_rows})
    assert len(answer["predictions"]) == water.max_rows


def test_the_first_bad_value_is_reported(water):
    rows = [[7, 2, 400, 18]] * 5
    rows = [list(r) for r in rows]
    rows[1][0], rows[3][0] = "x", "y"
    assert error(water, {"instances": rows})[1] == 'instances[1].ph: expected a number, got string "x"'


def test_long_strings_are_cut_in_messages(water):
    message = error(water, {"instances": [["x" * 500, 2, 400, 18]]})[1]
    assert message == f'instances[0].ph: expected a number, got string "{"x" * 40}..."'


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, 'body: expected a JSON object with "instances" (rows) or "inputs" (Open Inference Protocol tensors), got an empty object'),
        ({"rows": []}, f'{NOT_A_REQUEST}, got keys "rows"'),
        ({"instances": [], "inputs": []}, f"{NOT_A_REQUEST}, not both"),
    ],
)
def test_bodies_without_a_known_request(water, body, message):
    assert error(water, body) == ("invalid_request", message)


def test_non_finite_outputs_become_null_not_invalid_json(ridge, monkeypatch):
    from lambda_tabular.runtime.model import Prediction

    monkeypatch.setattr(ridge.model, "predict", lambda inputs: Prediction(values=np.array([1.5, np.inf, np.nan], dtype=np.float32)))
    answer = ridge({"instances": reference_rows(ridge)[:3]})
    assert answer["predictions"] == [1.5, None, None]

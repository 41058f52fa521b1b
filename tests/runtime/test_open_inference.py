"""Open Inference Protocol v2 requests ("inputs" tensors) answered in the same protocol."""

from __future__ import annotations

import numpy as np
import pytest

from .runtime_support import load_event, reference_rows

WATER = ["ph", "turbidity", "tds", "temperature"]


def tensors(rows: list[list], names: list[str], datatype="FP64", shape_1=False) -> list[dict]:
    columns = list(zip(*rows, strict=True))
    return [
        {
            "name": name,
            "shape": [len(rows), 1] if shape_1 else [len(rows)],
            "datatype": datatype if not isinstance(columns[j][0], str) else "BYTES",
            "data": list(columns[j]),
        }
        for j, name in enumerate(names)
    ]


def error(app, body) -> tuple[str, str]:
    answer = app(body)
    assert set(answer) == {"statusCode", "error"}, answer
    assert answer["statusCode"] == 400
    return answer["error"]["code"], answer["error"]["message"]


def test_one_tensor_per_feature(water):
    rows = reference_rows(water)
    answer = water({"id": "req-1", "inputs": tensors(rows, WATER)})
    reference = water.model.schema.reference
    assert answer["model_name"] == "water_quality"
    assert answer["model_version"] == "7"
    assert answer["id"] == "req-1"
    label, probabilities = answer["outputs"]
    assert label == {"name": "label", "shape": [len(rows)], "datatype": "INT64", "data": reference["labels"]}
    assert probabilities["name"] == "probabilities"
    assert probabilities["shape"] == [len(rows), 2]
    assert probabilities["datatype"] == "FP32"
    assert probabilities["parameters"] == {"classes": [0, 1]}
    np.testing.assert_allclose(np.reshape(probabilities["data"], (-1, 2)), reference["probabilities"], atol=1e-6)


def test_every_form_of_the_same_request_gets_the_same_outputs(water):
    rows = reference_rows(water)
    flat = [v for row in rows for v in row]
    forms = [
        tensors(rows, WATER),
        tensors(rows, WATER, shape_1=True),
        [{**t, "data": [[v] for v in t["data"]]} for t in tensors(rows, WATER, shape_1=True)],
        list(reversed(tensors(rows, WATER))),
        [{"name": "input-0", "shape": [len(rows), 4], "datatype": "FP64", "data": flat}],
        [{"name": "X", "shape": [len(rows), 4], "datatype": "FP32", "data": rows}],
    ]
    answers = [water({"inputs": form})["outputs"] for form in forms]
    assert all(a == answers[0] for a in answers)


def test_the_real_direct_payload(water):
    answer = water(load_event("direct-v2"))
    assert answer["id"] == "c1f0a7e2-request-42"
    assert answer["outputs"][0]["shape"] == [2]


def test_without_id_there_is_no_id(water):
    assert "id" not in water({"inputs": tensors(reference_rows(water)[:1], WATER)})


def test_requested_outputs_only(water):
    body = {"inputs": tensors(reference_rows(water)[:2], WATER), "outputs": [{"name": "probabilities"}]}
    assert [o["name"] for o in water(body)["outputs"]] == ["probabilities"]


def test_an_output_asked_for_twice_is_refused_not_repeated(water):
    """5,000 copies of one output would multiply the answer 5,000 times past the row limit."""
    body = {"inputs": tensors(reference_rows(water)[:2], WATER), "outputs": [{"name": "probabilities"}] * 5000}
    code, message = error(water, body)
    assert code == "invalid_request"
    assert message == 'outputs[1]: "probabilities" is already asked for at outputs[0]; name each output once'


def test_string_features_are_bytes_tensors(mixed):
    rows = reference_rows(mixed)
    answer = mixed({"inputs": tensors(rows, mixed.model.schema.names)})
    assert answer["outputs"][0]["data"] == mixed.model.schema.reference["labels"]


def test_string_labels_are_bytes(grades):
    rows = reference_rows(grades)
    answer = grades({"inputs": tensors(rows, grades.model.schema.names)})
    assert answer["outputs"][0]["datatype"] == "BYTES"
    assert answer["outputs"][0]["data"] == grades.model.schema.reference["labels"]
    assert answer["outputs"][1]["shape"] == [len(rows), 12]


def test_regressor_answers_one_prediction_tensor(ridge):
    rows = reference_rows(ridge)
    answer = ridge({"inputs": [{"name": "x", "shape": [len(rows), 5], "datatype": "FP64", "data": rows}]})
    [prediction] = answer["outputs"]
    assert prediction["name"] == "prediction"
    assert prediction["shape"] == [len(rows)]
    assert prediction["datatype"] == "FP64"  # the ONNX graph of a float64 Ridge answers doubles
    np.testing.assert_allclose(prediction["data"], ridge.model.schema.reference["predictions"], rtol=1e-5)


def test_integer_datatypes_take_whole_numbers(water):
    body = {"inputs": tensors([[7, 2, 400, 18], [8, 3, 500, 20]], WATER, datatype="INT32")}
    assert water(body)["outputs"][0]["shape"] == [2]


def test_nulls_where_nullable(water):
    body = {"inputs": tensors([[None, 2.0, 400.0, 18.0]], WATER)}
    assert water(body)["outputs"][0]["shape"] == [1]


def feature(name, data, datatype="FP64", shape=None):
    return {"name": name, "shape": shape or [len(data)], "datatype": datatype, "data": data}


GOOD = [feature(n, [1.0]) for n in WATER]


@pytest.mark.parametrize(
    "inputs, code, message",
    [
        ([], "invalid_request",
         'inputs: expected a non-empty list of tensors {"name", "shape", "datatype", "data"}, got an array'),
        ({"ph": [1]}, "invalid_request",
         'inputs: expected a non-empty list of tensors {"name", "shape", "datatype", "data"}, got an object'),
        ([GOOD[0], "tds"], "invalid_request",
         'inputs[1]: expected a tensor {"name", "shape", "datatype", "data"}, got string "tds"'),
        ([{**GOOD[0], "name": 3}], "invalid_request", "inputs[0].name: expected a string, got number 3"),
        ([{**GOOD[0], "shape": "1"}], "invalid_request",
         'inputs[0].shape: expected a list of 1 to 2 whole numbers (at most 2147483647) such as [N, 1], got string "1"'),
        ([{**GOOD[0], "shape": [-1]}], "invalid_request",
         "inputs[0].shape: expected a list of 1 to 2 whole numbers (at most 2147483647) such as [N, 1], got [-1]"),
        ([{**GOOD[0], "datatype": "FLOAT"}], "invalid_request",
         "inputs[0].datatype: expected one of BOOL, INT64, INT32, INT16, INT8, UINT64, UINT32, UINT16, UINT8, "
         'FP64, FP32, FP16, BYTES, got string "FLOAT"'),
        ([{**GOOD[0], "data": 1.0}], "invalid_request", "inputs[0].data: expected a list of values, got number 1.0"),
        ([feature("ph", [1.0, 2.0], shape=[3])] + GOOD[1:], "invalid_request",
         'inputs[0] ("ph"): shape [3] holds 3 values, data has 2'),
        (GOOD[:3], "missing_feature", 'inputs: missing feature "temperature"'),
        (GOOD + [feature("colour", [1.0])], "unknown_feature",
         'inputs[4]: unknown feature "colour"; send one tensor per feature (ph, turbidity, tds, temperature) or one [N, 4] tensor'),
        (GOOD + [GOOD[0]], "invalid_request", 'inputs[4] ("ph"): a second tensor for the same feature'),
        ([feature("ph", [1.0, 2.0], shape=[1, 2])] + GOOD[1:], "invalid_request",
         'inputs[0] ("ph"): expected shape [N] or [N, 1] for one feature, got [1, 2]'),
        ([GOOD[0], feature("turbidity", [1.0, 2.0])] + GOOD[2:], "invalid_request",
         'inputs[1] ("turbidity"): 2 rows, but inputs[0] ("ph") has 1'),
        ([feature(n, []) for n in WATER], "empty_batch", "inputs: expected at least one row, got none"),
        ([feature("ph", ["7"], "BYTES")] + GOOD[1:], "wrong_type",
         'inputs[0] ("ph"): datatype BYTES, expected a numeric datatype '
         "(FP64, FP32, FP16, INT64, INT32, INT16, INT8, UINT64, UINT32, UINT16, UINT8) for ph"),
        ([feature("ph", [True], "BOOL")] + GOOD[1:], "wrong_type",
         'inputs[0] ("ph"): datatype BOOL, expected a numeric datatype '
         "(FP64, FP32, FP16, INT64, INT32, INT16, INT8, UINT64, UINT32, UINT16, UINT8) for ph"),
        (GOOD[:2] + [feature("tds", ["abc"])] + GOOD[3:], "wrong_type",
         'inputs[2] ("tds") row 0: expected a number, got string "abc"'),
        (GOOD[:2] + [feature("tds", [1.5], "INT64")] + GOOD[3:], "wrong_type",
         'inputs[2] ("tds") row 0: expected an integer for datatype INT64, got number 1.5'),
        (GOOD[:2] + [feature("tds", [-1], "UINT8")] + GOOD[3:], "wrong_type",
         'inputs[2] ("tds") row 0: expected a non-negative integer for datatype UINT8, got number -1'),
        (GOOD[:3] + [feature("temperature", [float("inf")])], "non_finite",
         'inputs[3] ("temperature") row 0: expected a finite number, got Infinity'),
        ([feature("X", [1.0, 2.0, 3.0], shape=[1, 3])], "unknown_feature",
         'inputs[0] ("X"): not a feature name, and not one [N, 4] tensor of every feature; '
         "send one tensor per feature (ph, turbidity, tds, temperature) or one of shape [N, 4]"),
        ([feature("X", [1.0, 2.0, "3", 4.0, 5.0, 6.0, 7.0, 8.0], shape=[2, 4])], "wrong_type",
         'inputs[0] ("X") row 0, column 2 (tds): expected a number, got string "3"'),
        ([feature("X", [1, 2, 3, 4, 5, 6, 7.5, 8], "INT32", shape=[2, 4])], "wrong_type",
         'inputs[0] ("X") row 1, column 2 (tds): expected an integer for datatype INT32, got number 7.5'),
    ],
)
def test_refusals(water, inputs, code, message):
    assert error(water, {"inputs": inputs}) == (code, message)


def test_too_many_rows(water):
    n = water.max_rows + 1
    body = {"inputs": [{"name": "X", "shape": [n, 4], "datatype": "FP64", "data": [1.0] * (4 * n)}]}
    assert error(water, body)[0] == "too_many_rows"


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"id": 7}, "id: expected a string, got number 7"),
        ({"outputs": "label"}, 'outputs: expected a list of {"name": ...} objects, got string "label"'),
        ({"outputs": [{"name": "score"}]},
         'outputs[0]: expected an object naming one of "label", "probabilities", got an object'),
    ],
)
def test_bad_request_options(water, extra, message):
    assert error(water, {"inputs": GOOD, **extra}) == ("invalid_request", message)


def test_a_single_matrix_needs_an_all_numeric_model(mixed):
    body = {"inputs": [{"name": "X", "shape": [1, 5], "datatype": "FP64", "data": [1, 2, 3, 4, 5]}]}
    assert error(mixed, body) == (
        "invalid_request",
        'inputs[0] ("X"): one [N, 5] tensor carries numbers only, and this model takes strings (plan, region); '
        "send one tensor per feature",
    )


def test_strings_need_bytes(mixed):
    rows = reference_rows(mixed)[:1]
    inputs = tensors(rows, mixed.model.schema.names)
    inputs[3]["datatype"] = "FP32"
    assert error(mixed, {"inputs": inputs}) == (
        "wrong_type", 'inputs[3] ("plan"): datatype FP32, expected BYTES for string feature plan'
    )


SHAPE_REFUSAL = "inputs[0].shape: expected a list of 1 to 2 whole numbers (at most 2147483647) such as [N, 1], got "


@pytest.mark.parametrize(
    "shape, shown",
    [
        ([1, 4, 1], "[1, 4, 1]"),
        ([1] * 400_000, "an array"),
        ([10**2000, 10**2000], "an array"),
        ([2**31, 1], "[2147483648, 1]"),
        ([], "[]"),
    ],
    ids=["rank 3", "400,000 dimensions", "dimensions of 2,001 digits", "a dimension over int32", "rank 0"],
)
def test_shapes_are_bounded_before_any_arithmetic(water, shape, shown):
    """400,000 dimensions took 9.6 s of CPU (their product, twice); a product of thousands of
    digits was a 500. Rank and sizes are checked first, in time linear in the body."""
    import time

    started = time.process_time()
    answer = error(water, {"inputs": [{"name": "X", "shape": shape, "datatype": "FP64", "data": [1.0] * 4}]})
    assert answer == ("invalid_request", SHAPE_REFUSAL + shown)
    assert time.process_time() - started < 0.5


def test_data_is_unnested_no_deeper_than_the_shape(water):
    body = {"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP64", "data": [[[7.0, 2.0, 400.0, 18.0]]]}]}
    assert error(water, body) == ("invalid_request", 'inputs[0] ("X"): shape [1, 4] holds 4 values, data has 1')
    body["inputs"][0]["data"] = [[7.0, 2.0, 400.0, 18.0]]
    assert water(body)["outputs"][0]["shape"] == [1]


def test_the_echoed_id_is_bounded_and_valid_unicode(water):
    """A 2 MB id made a 7 MB answer; a lone surrogate killed the Python 3.12+ runtime client."""
    assert water({"id": "é" * 256, "inputs": GOOD})["id"] == "é" * 256
    assert error(water, {"id": "x" * 257, "inputs": GOOD}) == ("invalid_request", "id: expected at most 256 characters, got 257")
    assert error(water, {"id": "a\ud800", "inputs": GOOD}) == (
        "invalid_request", 'id: expected valid Unicode, got string "a\\ud800" (a lone surrogate)'
    )

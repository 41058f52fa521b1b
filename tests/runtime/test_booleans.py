"""Boolean features (trained from pandas bool columns): JSON true/false and 0/1 in both
protocols, rows as DataFrame.to_json writes them served unedited, anything else a 400 naming
the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from lambda_tabular.runtime import App, snapstart
from lambda_tabular.runtime.errors import ModelError
from lambda_tabular.runtime.validate import clean_numbers

from ..convert.models import diabetes_members
from .runtime_support import http_json, load_event, make_app, with_body

MEMBER = "member"
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def members():
    return diabetes_members()


class Served(NamedTuple):
    model: object  # the original
    app: App
    folder: Path  # its model.json and model.onnx


def _serve(work: Path, model, **request) -> Served:
    import joblib

    from lambda_tabular.convert.build import Request, build

    joblib.dump(model, work / "model.joblib")
    build(Request(work / "model.joblib", work / "model", name="members", **request), log=lambda *a: None)
    return Served(model, make_app(work / "model"), work / "model")


@pytest.fixture(scope="module")
def boosted(members, tmp_path_factory):
    """HistGradientBoosting, member named with --boolean: nullable (it routes a missing value as ONNX does)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    frame, y = members
    model = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(frame, y)
    return _serve(tmp_path_factory.mktemp("boosted"), model, booleans=[MEMBER])


@pytest.fixture(scope="module")
def forest(members, tmp_path_factory):
    """RandomForest, member typed by a --sample CSV: not nullable (ONNX does not route NaN as it does)."""
    from sklearn.ensemble import RandomForestClassifier

    frame, y = members
    model = RandomForestClassifier(30, max_depth=6, random_state=0).fit(frame, y)
    work = tmp_path_factory.mktemp("forest")
    frame.head(100).to_csv(work / "sample.csv", index=False)
    return _serve(work, model, sample=work / "sample.csv")


@pytest.fixture(params=["boosted", "forest"])
def served(request):
    return request.getfixturevalue(request.param)


def _records(frame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))


def _probabilities(app: App, body) -> np.ndarray:
    answer = app(body)
    assert "error" not in answer, answer
    return np.asarray(answer["probabilities"] if "probabilities" in answer else answer["outputs"][1]["data"])


def _error(app: App, body) -> tuple[str, str]:
    answer = app(body)
    assert answer["statusCode"] == 400, answer
    return answer["error"]["code"], answer["error"]["message"]


def test_member_is_typed_boolean(served):
    _, app, _ = served
    schema = app.model.schema
    assert [f.type for f in schema.features if f.name == MEMBER] == ["boolean"]
    assert schema.layout == "matrix" and schema.all_numbers and schema.booleans == (len(schema.features) - 1,)
    assert {row[-1] for row in schema.reference["rows"]} <= {True, False}


def test_to_json_rows_of_the_training_frame_are_served_unedited(served, members):
    model, app, _ = served
    frame, _ = members
    text = frame.to_json(orient="records")
    assert '"member":true' in text and '"member":false' in text
    event = with_body(load_event("function-url"), '{"instances": ' + text + "}")
    answer = http_json(app(event))
    got = np.asarray(answer["probabilities"])
    np.testing.assert_allclose(got, model.predict_proba(frame), atol=TOLERANCE, rtol=0)
    assert answer["predictions"] == model.predict(frame).tolist()


def test_true_false_and_0_1_are_the_same_values(served, members):
    _, app, _ = served
    rows = _records(members[0].head(40))
    expected = _probabilities(app, {"instances": rows})
    for spelling in ({True: 1, False: 0}, {True: 1.0, False: 0.0}):
        spelled = [{**row, MEMBER: spelling[row[MEMBER]]} for row in rows]
        np.testing.assert_array_equal(_probabilities(app, {"instances": spelled}), expected)
    as_lists = [list(row.values()) for row in rows]
    np.testing.assert_array_equal(_probabilities(app, {"instances": as_lists}), expected)


def test_both_values_change_the_answer(members, boosted):
    _, app, _ = boosted
    row = _records(members[0].head(1))[0]
    yes, no = (_probabilities(app, {"instances": [{**row, MEMBER: value}]}) for value in (True, False))
    assert not np.array_equal(yes, no)


@pytest.mark.parametrize("value, code, shown", [
    ("true", "wrong_type", 'string "true"'),
    ("yes", "wrong_type", 'string "yes"'),
    (2, "wrong_type", "number 2"),
    (0.5, "wrong_type", "number 0.5"),
    (-1, "wrong_type", "number -1"),
    (10**400, "wrong_type", "an integer of about 400 digits"),
    ([True], "wrong_type", "an array"),
])
def test_anything_else_is_refused_naming_the_field(served, members, value, code, shown):
    _, app, _ = served
    rows = _records(members[0].head(3))
    rows[2][MEMBER] = value
    assert _error(app, {"instances": rows}) == (code, f"instances[2].member: expected true or false (or 0 or 1), got {shown}")


def test_null_where_member_is_not_nullable(forest, members):
    _, app, _ = forest
    assert not app.model.schema.features[-1].nullable
    rows = _records(members[0].head(2))
    rows[1][MEMBER] = None
    assert _error(app, {"instances": rows}) == (
        "missing_value", "instances[1].member: expected true or false (or 0 or 1), got null; member does not accept missing values"
    )


def test_null_where_member_is_nullable(boosted, members):
    model, app, _ = boosted
    frame = members[0].head(5).astype({MEMBER: float})
    frame[MEMBER] = np.nan
    rows = [{**row, MEMBER: None} for row in _records(members[0].head(5))]
    np.testing.assert_allclose(_probabilities(app, {"instances": rows}), model.predict_proba(frame), atol=TOLERANCE)


def test_a_number_feature_still_refuses_booleans(served, members):
    _, app, _ = served
    rows = _records(members[0].head(1))
    rows[0]["age"] = True
    assert _error(app, {"instances": rows}) == ("wrong_type", "instances[0].age: expected a number, got boolean true")


def _tensors(frame, member_datatype: str = "BOOL") -> list[dict]:
    return [
        {"name": name, "shape": [len(frame)], "datatype": member_datatype if name == MEMBER else "FP64",
         "data": frame[name].tolist()}
        for name in frame.columns
    ]


def test_open_inference_takes_a_bool_tensor(served, members):
    model, app, _ = served
    frame = members[0]
    got = _probabilities(app, {"inputs": _tensors(frame)}).reshape(-1, 2)
    np.testing.assert_allclose(got, model.predict_proba(frame), atol=TOLERANCE, rtol=0)
    as_numbers = _tensors(frame.astype({MEMBER: int}), "INT64")
    np.testing.assert_array_equal(_probabilities(app, {"inputs": as_numbers}).reshape(-1, 2), got)
    matrix = [{"name": "X", "shape": list(frame.shape), "datatype": "FP64", "data": frame.astype(float).to_numpy().tolist()}]
    np.testing.assert_array_equal(_probabilities(app, {"inputs": matrix}).reshape(-1, 2), got)


@pytest.mark.parametrize("change, message", [
    (lambda t: t.update(datatype="BYTES", data=["true"] * len(t["data"])),
     'inputs[9] ("member"): datatype BYTES, expected BOOL (or a numeric datatype (FP64, FP32, FP16, INT64, INT32, '
     "INT16, INT8, UINT64, UINT32, UINT16, UINT8) holding 0 and 1) for boolean feature member"),
    (lambda t: t["data"].__setitem__(1, 2),
     'inputs[9] ("member") row 1: expected true or false (or 0 or 1), got number 2'),
    (lambda t: t.update(datatype="FP64", data=[0.5] * len(t["data"])),
     'inputs[9] ("member") row 0: expected true or false (or 0 or 1), got number 0.5'),
])
def test_open_inference_refusals(served, members, change, message):
    _, app, _ = served
    tensors = _tensors(members[0].head(3))
    change(tensors[-1])
    assert _error(app, {"inputs": tensors})[1] == message


def test_open_inference_bool_is_for_boolean_features_only(served, members):
    _, app, _ = served
    frame = members[0].head(2)
    tensors = _tensors(frame)
    tensors[0]["datatype"] = "BOOL"
    assert _error(app, {"inputs": tensors})[0] == "wrong_type"
    matrix = [{"name": "X", "shape": list(frame.shape), "datatype": "BOOL", "data": frame.to_numpy().tolist()}]
    code, message = _error(app, {"inputs": matrix})
    assert code == "wrong_type" and "datatype BOOL, expected a numeric datatype" in message


def test_a_matrix_with_another_value_for_member_is_refused(served, members):
    _, app, _ = served
    frame = members[0].head(2).astype(float)
    frame.loc[1, MEMBER] = 0.5
    matrix = [{"name": "X", "shape": list(frame.shape), "datatype": "FP64", "data": frame.to_numpy().ravel().tolist()}]
    assert _error(app, {"inputs": matrix}) == (
        "wrong_type", 'inputs[0] ("X") row 1, column 9 (member): expected true or false (or 0 or 1), got number 0.5'
    )


def test_the_fast_path_lets_only_0_and_1_through_for_booleans(forest):
    _, app, _ = forest
    schema = app.model.schema
    width = len(schema.features)
    row = [0.01] * (width - 1)
    assert clean_numbers(row + [1], (1, width), schema) is not None
    assert clean_numbers(row + [0.0], (1, width), schema) is not None
    for other in (0.5, 2, -1):
        assert clean_numbers(row + [other], (1, width), schema) is None
    assert clean_numbers(row + [True], (1, width), schema) is None  # true takes the careful path, which accepts it


def test_warm_up_events_are_served(served):
    _, app, _ = served
    for name, event in snapstart.warm_up_events(app.model.schema):
        response, outcome = app.rehearse(event)
        assert outcome.error is None, (name, response)


def test_model_json_refuses_categories_on_a_boolean_feature(served, tmp_path):
    import shutil

    from lambda_tabular.runtime import Settings, integrity
    from lambda_tabular.runtime.model import Model

    target = tmp_path / "model"
    shutil.copytree(served.folder, target)
    meta = json.loads((target / "model.json").read_text())
    meta["features"][-1]["categories"] = ["true", "false"]
    meta["integrity"]["digest"] = integrity.digest(meta, meta["onnx"]["sha256"])
    (target / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"features\[9\]\.categories must be a list of strings on a string feature"):
        Model.load(Settings(model_dir=target))

"""Features trained from pandas bool columns: found where the model or its files record them, or
named with --boolean; proven on 0 and 1; typed "boolean" in model.json."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import joblib
import pytest
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from xgboost import XGBClassifier

from lambda_tabular.convert import probes
from lambda_tabular.convert.build import Request, build
from lambda_tabular.convert.errors import InputError
from lambda_tabular.convert.schema import schema_of

from .models import diabetes_members
from .test_cli import assert_refused, run

MEMBER = "member"


@pytest.fixture(scope="module")
def members():
    return diabetes_members()


def _types(metadata: dict) -> dict[str, str]:
    return {f["name"]: f["type"] for f in metadata["features"]}


def _convert(tmp_path: Path, model, **request) -> dict:
    source = tmp_path / "model.joblib"
    joblib.dump(model, source)
    return build(Request(source, tmp_path / "out", **request), log=lambda *a: None)


def _only_member_is_boolean(metadata: dict) -> None:
    types = _types(metadata)
    assert types.pop(MEMBER) == "boolean"
    assert set(types.values()) == {"number"}
    assert metadata["onnx"]["input_layout"] == "matrix"
    assert {row[-1] for row in metadata["reference"]["rows"]} <= {True, False, None}


def test_the_flag_types_a_feature_of_a_model_that_records_nothing(members, tmp_path):
    frame, y = members
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(frame, y)
    metadata = _convert(tmp_path, model, booleans=[MEMBER])
    _only_member_is_boolean(metadata)
    assert metadata["parity"]["groups"][f"missing:{MEMBER}"]["passed"]
    assert metadata["features"][-1]["nullable"] is True  # HistGradientBoosting routes a missing value, as ONNX does


def test_without_the_flag_a_pickled_model_takes_numbers(members, tmp_path):
    frame, y = members
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(frame, y)
    assert set(_types(_convert(tmp_path, model)).values()) == {"number"}


def test_a_sample_csv_column_of_true_and_false_types_the_feature(members, tmp_path):
    frame, y = members
    model = RandomForestClassifier(20, max_depth=6, random_state=0).fit(frame, y)
    frame.to_csv(tmp_path / "sample.csv", index=False)
    assert "True" in (tmp_path / "sample.csv").read_text()
    metadata = _convert(tmp_path, model, sample=tmp_path / "sample.csv")
    _only_member_is_boolean(metadata)
    assert metadata["parity"]["groups"]["sample"]["rows"] == len(frame)


def test_xgboost_records_a_bool_column_as_an_indicator(members, tmp_path):
    frame, y = members
    model = XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1, random_state=0).fit(frame, y)
    assert model.get_booster().feature_types[-1] == "i"
    _only_member_is_boolean(_convert(tmp_path, model))
    model.save_model(tmp_path / "native.json")  # the native file keeps the types too
    native = build(Request(tmp_path / "native.json", tmp_path / "native"), log=lambda *a: None)
    _only_member_is_boolean(native)


def test_an_mlflow_signature_types_the_feature(members, tmp_path):
    frame, y = members
    model = RandomForestClassifier(20, max_depth=6, random_state=0).fit(frame, y)
    folder = _mlflow_sklearn_dir(tmp_path / "mlflow", model, frame)
    metadata = build(Request(folder, tmp_path / "out"), log=lambda *a: None)
    _only_member_is_boolean(metadata)


def test_a_recorded_type_decides_over_a_sample(members, tmp_path):
    frame, y = members
    model = RandomForestClassifier(10, max_depth=4, random_state=0).fit(frame, y)
    folder = _mlflow_sklearn_dir(tmp_path / "mlflow", model, frame, member_type="double")
    frame.to_csv(tmp_path / "sample.csv", index=False)
    metadata = build(Request(folder, tmp_path / "out", sample=tmp_path / "sample.csv"), log=lambda *a: None)
    assert set(_types(metadata).values()) == {"number"}


def test_boolean_features_are_probed_at_0_and_1(members):
    frame, y = members
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(frame, y)
    schema = schema_of(model)
    schema.features[-1].kind = "boolean"
    groups = probes.probe_rows(model, schema)
    for name, rows in groups.items():
        assert set(rows[MEMBER]) <= {0.0, 1.0}, name
    assert set(groups["random"][MEMBER]) == {0.0, 1.0}
    assert set(groups["threshold"][MEMBER]) == {0.0, 1.0}


def _mlflow_sklearn_dir(folder: Path, model, frame, member_type: str = "boolean") -> Path:
    """An MLflow sklearn-flavor directory as mlflow.sklearn.save_model writes it, with the
    column signature infer_signature gives a DataFrame (MLflow itself is not installed here)."""
    folder.mkdir()
    with open(folder / "model.pkl", "wb") as file:
        pickle.dump(model, file)
    inputs = [
        {"type": member_type if name == MEMBER else "double", "name": name, "required": True}
        for name in frame.columns
    ]
    (folder / "MLmodel").write_text(
        "flavors:\n"
        "  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n"
        "  sklearn:\n    code: null\n    pickled_model: model.pkl\n    serialization_format: pickle\n"
        f"    sklearn_version: {sklearn.__version__}\n"
        "mlflow_version: 3.18.0\n"
        "signature:\n"
        f"  inputs: '{json.dumps(inputs)}'\n"
        "  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"int64\", \"shape\": [-1]}}]'\n"
    )
    return folder


@pytest.fixture(scope="module")
def forest(members, tmp_path_factory) -> Path:
    frame, y = members
    path = tmp_path_factory.mktemp("forest") / "forest.joblib"
    joblib.dump(RandomForestClassifier(10, max_depth=4, random_state=0).fit(frame, y), path)
    return path


@pytest.mark.parametrize("flag, phrase", [
    ("colour", "--boolean colour: not a feature of the model; its features are age, bmi"),
    ("age,colour", "--boolean colour: not a feature"),
])
def test_the_flag_refuses_a_name_that_is_no_feature(forest, tmp_path, flag, phrase):
    out = tmp_path / "out"
    assert_refused(run(forest, "--out", out, "--boolean", flag), out, phrase, code=4)


@pytest.mark.parametrize("flag, phrase", [("", "empty name in the list"), ("member,", "empty name in the list")])
def test_the_flag_refuses_an_empty_name(forest, tmp_path, flag, phrase):
    out = tmp_path / "out"
    assert_refused(run(forest, "--out", out, "--boolean", flag), out, phrase, code=4)


def test_the_flag_cannot_contradict_a_recorded_type(members, tmp_path):
    frame, y = members
    model = XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1).fit(frame, y)
    joblib.dump(model, tmp_path / "model.joblib")
    with pytest.raises(InputError, match=r"^--boolean age: the XGBoost model records age as 'float', not boolean$"):
        build(Request(tmp_path / "model.joblib", tmp_path / "out", booleans=["age"]), log=lambda *a: None)


def test_the_flag_refuses_a_string_feature(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from .models import column_transformer, labels, mixed_frame

    frame, signal = mixed_frame(1)
    model = Pipeline([("prep", column_transformer()), ("model", LogisticRegression())]).fit(frame, labels(signal, 2))
    joblib.dump(model, tmp_path / "model.joblib")
    with pytest.raises(InputError, match=r"^--boolean plan: the model reads plan as strings"):
        build(Request(tmp_path / "model.joblib", tmp_path / "out", booleans=["plan"]), log=lambda *a: None)


def test_a_sample_with_another_value_in_a_boolean_column_is_refused(members, forest, tmp_path):
    frame, _ = members
    frame.astype({MEMBER: int}).assign(member=lambda f: f[MEMBER].where(f.index != 3, 2)).to_csv(
        tmp_path / "sample.csv", index=False
    )
    out = tmp_path / "out"
    result = run(forest, "--out", out, "--boolean", MEMBER, "--sample", tmp_path / "sample.csv")
    assert_refused(result, out, "column 'member' is boolean: expected true, false, 0 or 1, got 2", code=4)


def test_a_sample_of_0_and_1_fits_a_flagged_feature(members, forest, tmp_path):
    frame, _ = members
    frame.astype({MEMBER: int}).to_csv(tmp_path / "sample.csv", index=False)
    out = tmp_path / "out"
    result = run(forest, "--out", out, "--boolean", MEMBER, "--sample", tmp_path / "sample.csv")
    assert result.returncode == 0, result.stderr
    assert _types(json.loads((out / "model.json").read_text()))[MEMBER] == "boolean"

"""Loading refuses a missing, corrupt or swapped model: the function must never serve one."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from runtime import App, Settings
from runtime.errors import ModelError
from runtime.model import Model


@pytest.fixture
def copy_of(tmp_path):
    def copy(model_dir: Path) -> Path:
        target = tmp_path / model_dir.parent.name
        shutil.copytree(model_dir, target)
        return target

    return copy


def load(model_dir: Path) -> Model:
    return Model.load(Settings(model_dir=model_dir))


def edit_json(model_dir: Path, change) -> None:
    path = model_dir / "model.json"
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))


def test_a_good_model_loads_and_records_its_timings(water_dir):
    model = load(water_dir)
    assert model.schema.name == "water_quality"
    assert set(model.timings) == {"read_ms", "session_ms", "self_check_ms"}


def test_a_corrupt_onnx_file_is_refused(water_dir, copy_of):
    model_dir = copy_of(water_dir)
    with (model_dir / "model.onnx").open("ab") as stream:
        stream.write(b"\0")
    with pytest.raises(ModelError) as caught:
        load(model_dir)
    expected = json.loads((water_dir / "model.json").read_text())["onnx"]["sha256"]
    actual = hashlib.sha256((model_dir / "model.onnx").read_bytes()).hexdigest()
    assert caught.value.message == (
        f"{model_dir / 'model.onnx'} has sha256 {actual}, but model.json says {expected}: "
        "the model file is corrupt or was swapped; refusing to serve it"
    )
    assert caught.value.code == "model_error"


def test_a_swapped_model_with_a_matching_hash_fails_the_self_check(water_dir, grades_dir, copy_of):
    model_dir = copy_of(water_dir)
    shutil.copy(grades_dir / "model.onnx", model_dir / "model.onnx")
    digest = hashlib.sha256((model_dir / "model.onnx").read_bytes()).hexdigest()
    edit_json(model_dir, lambda meta: meta["onnx"].update(sha256=digest))
    with pytest.raises(ModelError, match=r"^self-check failed: reference row 0 gets label 'grade_"):
        load(model_dir)


def test_a_model_of_another_width_fails_the_self_check(water_dir, ridge_dir, copy_of):
    model_dir = copy_of(water_dir)
    shutil.copy(ridge_dir / "model.onnx", model_dir / "model.onnx")
    digest = hashlib.sha256((model_dir / "model.onnx").read_bytes()).hexdigest()
    edit_json(model_dir, lambda meta: meta["onnx"].update(sha256=digest))
    with pytest.raises(ModelError, match="model.onnx has no output 'label'"):
        load(model_dir)


def test_answers_that_drift_from_the_reference_are_refused(water_dir, copy_of):
    model_dir = copy_of(water_dir)

    def drift(meta):
        meta["reference"]["probabilities"][3] = [0.5, 0.5]

    edit_json(model_dir, drift)
    with pytest.raises(ModelError, match=r"^self-check failed: reference row 3 differs by 0\.\d+ \(tolerance 0\.0001\)"):
        load(model_dir)


def test_reference_labels_must_match(water_dir, copy_of):
    model_dir = copy_of(water_dir)
    edit_json(model_dir, lambda meta: meta["reference"]["labels"].__setitem__(1, 5))
    with pytest.raises(ModelError, match="^self-check failed: reference row 1 gets label 1, model.json recorded 5$"):
        load(model_dir)


def test_reference_rows_that_do_not_fit_the_schema(water_dir, copy_of):
    model_dir = copy_of(water_dir)
    edit_json(model_dir, lambda meta: meta["reference"]["rows"][0].append(1.0))
    with pytest.raises(ModelError, match=r"^self-check: model.json reference.rows\[0\]: expected 4 values"):
        load(model_dir)


def test_an_unloadable_onnx_file_with_a_matching_hash(water_dir, copy_of):
    model_dir = copy_of(water_dir)
    (model_dir / "model.onnx").write_bytes(b"not a model")
    edit_json(model_dir, lambda meta: meta["onnx"].update(sha256=hashlib.sha256(b"not a model").hexdigest()))
    with pytest.raises(ModelError, match=r"^onnxruntime cannot load .*model.onnx: "):
        load(model_dir)


def test_missing_files(tmp_path, water_dir, copy_of):
    with pytest.raises(ModelError) as caught:
        load(tmp_path)
    assert caught.value.message == (
        f"no model.json in {tmp_path}: set MODEL_DIR to the folder holding model.json and model.onnx"
    )
    model_dir = copy_of(water_dir)
    (model_dir / "model.onnx").unlink()
    with pytest.raises(ModelError, match=r"^cannot read .*model.onnx: No such file or directory$"):
        load(model_dir)


def test_model_json_that_is_not_json(tmp_path):
    (tmp_path / "model.json").write_text("{")
    with pytest.raises(ModelError, match=r"model.json is not valid JSON"):
        load(tmp_path)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(schema_version=2),
         "model.json schema_version 2 is not the 1 this runtime reads: convert the model with the converter of the same release"),
        (lambda m: m.update(task="clustering"), "model.json task must be one of classification, regression, got 'clustering'"),
        (lambda m: m.update(features=[]), "model.json features is empty"),
        (lambda m: m["features"][0].update(type="date"), "model.json features[0].type must be number or string, got 'date'"),
        (lambda m: m["features"][1].update(name="ph"), "model.json features repeat a name"),
        (lambda m: m.update(classes=[1]), "model.json classes must list 2 or more classes"),
        (lambda m: m["onnx"].update(input_dtype="int8"), "model.json onnx.input_dtype must be one of float64, float32, got 'int8'"),
        (lambda m: m["onnx"].update(input_layout="tensor"), "model.json onnx.input_layout must be one of matrix, columns, got 'tensor'"),
        (lambda m: m["onnx"].update(inputs=["a", "b"]), "model.json onnx.inputs must name 1 input(s)"),
        (lambda m: m["onnx"]["outputs"].pop("label"), "model.json onnx.outputs.label is missing"),
        (lambda m: m.pop("reference"), "model.json reference must be a dict, got NoneType"),
        (lambda m: m["features"][0].update(type="string"), "model.json onnx.input_layout is matrix but some features are strings"),
    ],
)
def test_model_json_that_breaks_the_contract(water_dir, copy_of, change, message):
    model_dir = copy_of(water_dir)
    edit_json(model_dir, change)
    with pytest.raises(ModelError) as caught:
        load(model_dir)
    assert caught.value.message == message


def test_startup_failure_logs_one_line_and_raises(water_dir, copy_of, capsys):
    model_dir = copy_of(water_dir)
    with (model_dir / "model.onnx").open("ab") as stream:
        stream.write(b"tampered")
    with pytest.raises(ModelError):
        App.from_env({"MODEL_DIR": str(model_dir), "METRICS_DISABLED": "1"})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["level"] == "ERROR"
    assert record["message"] == "startup failed"
    assert record["error_code"] == "model_error"
    assert "refusing to serve it" in record["error_message"]


def test_startup_logs_an_init_line(water_dir, capsys):
    App.from_env({"MODEL_DIR": str(water_dir)}, imports_ms=12.5)
    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert record["message"] == "init"
    assert record["imports_ms"] == 12.5
    assert record["model"] == "water_quality"
    assert record["max_rows"] == 10_000
    assert record["intra_op_threads"] == 1
    for key in ("model_load_ms", "session_ms", "self_check_ms", "init_ms"):
        assert record[key] > 0


def test_a_model_with_other_inputs_is_refused(water_dir, mixed_dir, copy_of):
    model_dir = copy_of(water_dir)
    shutil.copy(mixed_dir / "model.onnx", model_dir / "model.onnx")
    digest = hashlib.sha256((model_dir / "model.onnx").read_bytes()).hexdigest()
    edit_json(model_dir, lambda meta: meta["onnx"].update(sha256=digest))
    with pytest.raises(ModelError) as caught:
        load(model_dir)
    assert caught.value.message == (
        "model.onnx takes inputs ['age', 'income', 'score', 'plan', 'region'], model.json says ['X']"
    )

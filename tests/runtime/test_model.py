"""Loading refuses a missing, corrupt or swapped model: the function must never serve one."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from lambda_tabular.runtime import App, Settings, integrity
from lambda_tabular.runtime.errors import ModelError
from lambda_tabular.runtime.model import Model


@pytest.fixture
def copy_of(tmp_path):
    def copy(model_dir: Path) -> Path:
        target = tmp_path / model_dir.parent.name
        shutil.copytree(model_dir, target)
        return target

    return copy


def load(model_dir: Path) -> Model:
    return Model.load(Settings(model_dir=model_dir))


def edit_json(model_dir: Path, change, reseal: bool = True) -> None:
    """Change model.json. By default the integrity digest is recomputed, as a careful forger (or
    a converter bug) would, so that the checks behind it are tested too; reseal=False leaves
    it as the converter wrote it."""
    path = model_dir / "model.json"
    meta = json.loads(path.read_text())
    change(meta)
    if reseal and isinstance(meta, dict) and isinstance(meta.get("integrity"), dict):
        onnx_sha256 = hashlib.sha256((model_dir / "model.onnx").read_bytes()).hexdigest()
        meta["integrity"]["digest"] = integrity.digest(meta, onnx_sha256)
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
    with pytest.raises(ModelError, match=r"model.onnx has no output 'label'"):
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
    with pytest.raises(ModelError, match=r"^self-check failed: reference row 1 gets label 1, model.json recorded 5$"):
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
        (lambda m: m.update(task="clustering"), "model.json task must be one of classification, regression, anomaly, got 'clustering'"),
        (lambda m: m.update(features=[]), "model.json features is empty"),
        (lambda m: m["features"][0].update(type="date"), "model.json features[0].type must be number, string or boolean, got 'date'"),
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


def _swap_first_two_features(meta):
    first, second = meta["features"][0], meta["features"][1]
    first["name"], second["name"] = second["name"], first["name"]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda m: m.update(classes=m["classes"][::-1]), id="classes reversed"),
        pytest.param(_swap_first_two_features, id="two feature names swapped"),
        pytest.param(lambda m: m["features"][0].update(nullable=not m["features"][0]["nullable"]), id="nullable flipped"),
        pytest.param(lambda m: m["reference"].update(tolerance=0.01), id="tolerance raised"),
        pytest.param(lambda m: m.update(name="other"), id="name"),
        pytest.param(lambda m: m["parity"].update(max_abs_diff=0.0), id="parity report"),
    ],
)
def test_an_edit_that_changes_meaning_is_refused(water_dir, copy_of, change):
    """Every one of these loaded and served before model.json carried its digest."""
    model_dir = copy_of(water_dir)
    edit_json(model_dir, change, reseal=False)
    with pytest.raises(ModelError, match=r"^model.json's integrity.digest does not match model.json and model.onnx "
                                         r"\(computed [0-9a-f]{64}\): model.json was edited after conversion"):
        load(model_dir)


def test_reformatting_model_json_keeps_its_digest(water_dir, copy_of):
    model_dir = copy_of(water_dir)
    meta = json.loads((model_dir / "model.json").read_text())
    (model_dir / "model.json").write_text(json.dumps(dict(reversed(list(meta.items()))), indent=7))
    assert load(model_dir).schema.digest == meta["integrity"]["digest"]


def test_the_digest_is_the_one_the_converter_wrote(water_dir):
    """Converter and runtime share runtime/integrity.py; this pins what the digest covers."""
    meta = json.loads((water_dir / "model.json").read_text())
    onnx_sha256 = hashlib.sha256((water_dir / "model.onnx").read_bytes()).hexdigest()
    canonical = json.dumps({k: v for k, v in meta.items() if k != "integrity"}, sort_keys=True, separators=(",", ":")).encode()
    assert meta["integrity"] == {
        "algorithm": "sha256",
        "covers": integrity.COVERS,
        "digest": hashlib.sha256(integrity.PREFIX + canonical + b"\n" + onnx_sha256.encode()).hexdigest(),
    }


def test_a_model_json_without_integrity_is_refused(water_dir, copy_of):
    model_dir = copy_of(water_dir)
    edit_json(model_dir, lambda m: m.pop("integrity"))
    with pytest.raises(ModelError, match=r"^model.json has no integrity block: it was not written by this release's converter"):
        load(model_dir)


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m["reference"].update(tolerance="abc"),
         "model.json reference.tolerance must be a number above 0 and at most 0.01, got 'abc'"),
        (lambda m: m["reference"].update(tolerance=1e9),
         "model.json reference.tolerance must be a number above 0 and at most 0.01, got 1000000000.0"),
        (lambda m: m["reference"].update(tolerance=[[[1]]]),
         "model.json reference.tolerance must be a number above 0 and at most 0.01, got a list"),
        (lambda m: m["onnx"].update(file="/dev/zero"),
         "model.json onnx.file must be a bare file name inside the model directory (no '/', not '..'), got '/dev/zero'"),
        (lambda m: m["onnx"].update(file="../model/model.onnx"),
         "model.json onnx.file must be a bare file name inside the model directory (no '/', not '..'), got '../model/model.onnx'"),
        (lambda m: m["onnx"].update(file=".."),
         "model.json onnx.file must be a bare file name inside the model directory (no '/', not '..'), got '..'"),
        (lambda m: m["onnx"].update(file=["model.onnx"]),
         "model.json onnx.file must be a bare file name inside the model directory (no '/', not '..'), got a list"),
        (lambda m: m["onnx"].update(sha256=7), "model.json onnx.sha256 must be 64 hexadecimal digits, got 7"),
        (lambda m: m["features"][0].update(nullable="false"), "model.json features[0].nullable must be true or false, got 'false'"),
        (lambda m: m.update(classes=[[0], [1]]), "model.json classes must be strings or numbers"),
        (lambda m: m.update(classes=[0, 0]), "model.json classes repeat a class"),
        (lambda m: m.update(classes=["\ud800", "b"]), "model.json classes holds a string that is not valid Unicode"),
        (lambda m: m["features"][0].update(name="p\udcffh"), "model.json features holds a string that is not valid Unicode"),
        (lambda m: m.update(name={"a": 1}), "model.json name must be a str, got dict"),
        (lambda m: m.update(version=[1]), "model.json version must be a str, got list"),
        (lambda m: m.update(schema_version=True), "model.json schema_version True is not the 1 this runtime reads: "
                                                  "convert the model with the converter of the same release"),
        (lambda m: m["integrity"].update(algorithm="md5"), "model.json integrity.algorithm must be 'sha256', got 'md5'"),
        (lambda m: m["integrity"].update(digest="zz"), "model.json integrity.digest must be 64 hexadecimal digits, got 'zz'"),
        (lambda m: m["onnx"].update(inputs=[{"X": 1}]), "model.json onnx.inputs must be strings"),
        (lambda m: m["reference"].update(rows=[1, 2]), "model.json reference.rows must be lists of values"),
        (lambda m: m["reference"].update(labels="0,1"), "model.json reference.labels must be a list"),
        (lambda m: m["reference"].update(probabilities=[[0.5]] * 8),
         "self-check failed: the model answers shape [8, 2], model.json's reference does not match it"),
    ],
)
def test_malformed_model_json_values_are_model_errors(water_dir, copy_of, change, message):
    model_dir = copy_of(water_dir)
    edit_json(model_dir, change, reseal="integrity" not in message)  # resealed: each check behind the digest
    with pytest.raises(ModelError) as caught:
        load(model_dir)
    assert caught.value.message == message


@pytest.mark.parametrize(
    "text, message",
    [
        (DEEP, "is not valid JSON: nested too deeply"),
        ('{"name": ' + DEEP + "}", "is not valid JSON: nested too deeply"),
        ('{"schema_version": NaN}', "is not valid JSON: NaN is not a JSON value"),
        ('{"n": ' + "9" * 5000 + "}", "is not valid JSON: Exceeds the limit (4300 digits)"),
        ("[1, 2]", "model.json must hold a JSON object"),
    ],
)
def test_model_json_that_cannot_be_read_is_one_startup_failure(tmp_path, water_dir, text, message, capsys):
    (tmp_path / "model.onnx").write_bytes((water_dir / "model.onnx").read_bytes())
    (tmp_path / "model.json").write_text(text)
    with pytest.raises(ModelError) as caught:
        App.from_env({"MODEL_DIR": str(tmp_path), "METRICS_DISABLED": "1"})
    assert message in caught.value.message
    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert (record["message"], record["error_code"]) == ("startup failed", "model_error")
    assert message in record["error_message"]


@pytest.mark.parametrize("target", ["/dev/zero", "directory"])
def test_the_onnx_file_must_be_a_regular_file(water_dir, copy_of, target):
    model_dir = copy_of(water_dir)
    (model_dir / "model.onnx").unlink()
    if target == "directory":
        (model_dir / "model.onnx").mkdir()
    else:
        (model_dir / "model.onnx").symlink_to(target)
    with pytest.raises(ModelError, match=r"model.onnx is not a regular file; refusing to read it$"):
        load(model_dir)


def test_a_check_that_fails_in_an_unforeseen_way_is_still_a_model_error(water_dir, monkeypatch, capsys):
    """Whatever model.json holds, the init ends in one `startup failed` line, never a raw exception."""
    def unforeseen(meta):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("lambda_tabular.runtime.model.Schema.from_json", unforeseen)
    with pytest.raises(ModelError, match=r"^model.json does not fit this runtime's contract "
                                         r"\(RecursionError: maximum recursion depth exceeded\)$"):
        App.from_env({"MODEL_DIR": str(water_dir), "METRICS_DISABLED": "1"})
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["message"] == "startup failed"

"""`python -m tests.pins`: which pins move, and that a held pin keeps its version and its reason."""

from __future__ import annotations

from tests import pins


def _tree(root, runtime: str):
    (root / "deploy" / "package").mkdir(parents=True)
    (root / "requirements-runtime.txt").write_text(runtime)
    (root / "requirements-build.txt").write_text("-r requirements-runtime.txt\nscikit-learn==1.8.0\n")
    (root / "requirements-catboost.txt").write_text("# CatBoost models\n")
    (root / "requirements-dev.txt").write_text("moto[server]==5.2.5\n")
    (root / "deploy" / "package" / "lambda-client.txt").write_text("# none\n")
    (root / "bench" / "baseline").mkdir(parents=True)
    (root / "bench" / "baseline" / "requirements.txt").write_text("# the usual image\n")


def test_pins_moves_what_is_behind_and_keeps_what_is_held(tmp_path):
    _tree(tmp_path, "# the runtime\nnumpy==2.3.5\nonnxruntime==1.28.0  # held: starts on Lambda arm64\n")
    found = pins.pins(tmp_path)
    assert [(p.name, p.version, p.held) for p in found] == [
        ("numpy", "2.3.5", None), ("onnxruntime", "1.28.0", "starts on Lambda arm64"),
        ("scikit-learn", "1.8.0", None), ("moto", "5.2.5", None),
    ]
    newest = {"numpy": "2.4.6", "onnxruntime": "1.32.0", "scikit-learn": "1.8.0", "moto": "5.2.6"}
    for pin in found:
        pin.newest = newest[pin.name]
    moved = pins.write(found, tmp_path)
    assert [p.name for p in moved] == ["numpy", "moto"]
    assert (tmp_path / "requirements-runtime.txt").read_text() == (
        "# the runtime\nnumpy==2.4.6\nonnxruntime==1.28.0  # held: starts on Lambda arm64\n")
    assert (tmp_path / "requirements-dev.txt").read_text() == "moto[server]==5.2.6\n"


def test_every_held_pin_in_this_repository_says_why():
    for pin in pins.pins():
        assert pin.held is None or len(pin.held) > 10, pin

"""The tool as a user installs it: the wheel built from this checkout, installed into a fresh
virtual environment outside it, run from a folder that holds nothing but the user's model.

The model is one nobody here wrote the data for: a forest on scikit-learn's bundled breast
cancer measurements, which repeat values and sit on split thresholds."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MLFLOW = ROOT / "tests" / "convert" / "fixtures" / "mlflow"
IMAGE = "lambda-tabular/installed-wheel:test"
# What the image is built from, inside the installed package.
PACKAGE_DATA = ["Dockerfile", "requirements-runtime.txt", "requirements-build.txt",
                "deploy/package/lambda-entrypoint.sh", "deploy/package/lambda-client.txt",
                "deploy/package/standin.Dockerfile", "deploy/aws/template.yaml", "runtime/handler.py"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The wheel and the sdist, as `python -m build` makes them from this checkout."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def tool(dist, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed (and its [aws] extra, which `run`
    uses to invoke the emulator), held to the versions this checkout pins; its bin folder."""
    env = tmp_path_factory.mktemp("user-venv")
    venv.create(env, with_pip=True)
    constraints = env / "constraints.txt"
    constraints.write_text("\n".join(pins(ROOT / "requirements-dev.txt")) + "\n")
    wheel = next(dist.glob("*.whl"))
    done = subprocess.run(
        [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         f"{wheel}[aws]", "--constraint", str(constraints)],
        capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return env / "bin"


def pins(requirements: Path) -> list[str]:
    """``name==version`` for every pin in a requirements file and the files it includes, as
    pip's constraints take them (no extras, no options)."""
    found = []
    for line in requirements.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r"):
            found += pins(requirements.parent / line[2:].strip())
        elif line:
            found.append(re.sub(r"\[.*\]", "", line))
    return found


@pytest.fixture(scope="module")
def user(tmp_path_factory) -> tuple[Path, RandomForestClassifier, pd.DataFrame]:
    """A folder holding only model.joblib (trained on a DataFrame, so its features have the data
    set's own names, spaces included), the model, and rows to ask it about."""
    folder = tmp_path_factory.mktemp("user-project")
    data = load_breast_cancer(as_frame=True)
    model = RandomForestClassifier(n_estimators=25, max_depth=6, random_state=0).fit(data.data, data.target)
    joblib.dump(model, folder / "model.joblib")
    return folder, model, data.data.iloc[::57]


def lambda_tabular(tool: Path, folder: Path, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{tool}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(tool / "lambda-tabular"), *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=timeout)


def answers(run_output: str) -> list[dict]:
    """The JSON bodies `lambda-tabular run` prints, one after each status line."""
    bodies, decoder, text = [], json.JSONDecoder(), run_output
    while "{" in text:
        body, end = decoder.raw_decode(text[text.index("{"):])
        bodies.append(body)
        text = text[text.index("{") + end:]
    return bodies


def check_answers(done: subprocess.CompletedProcess, model, rows: pd.DataFrame) -> None:
    assert done.returncode == 0, done.stderr[-3000:]
    assert "\nstatus 200," in f"\n{done.stdout}", done.stdout[:500]
    (body,) = answers(done.stdout)
    np.testing.assert_array_equal(body["predictions"], model.predict(rows))
    np.testing.assert_allclose(body["probabilities"], model.predict_proba(rows), atol=1e-5)


def payload(rows: pd.DataFrame) -> str:
    return json.dumps({"instances": rows.to_dict(orient="records")})


def test_the_wheel_puts_one_name_in_site_packages_and_carries_what_images_are_built_from(dist):
    wheel = zipfile.ZipFile(next(dist.glob("*.whl")))
    names = wheel.namelist()
    assert {name.split("/")[0] for name in names} == {"lambda_tabular", "lambda_tabular-0.1.0.dist-info"}
    for name in PACKAGE_DATA:
        assert f"lambda_tabular/{name}" in names, name
    entry_points = wheel.read("lambda_tabular-0.1.0.dist-info/entry_points.txt").decode()
    assert "lambda-tabular = lambda_tabular.deploy.cli:main" in entry_points
    with tarfile.open(next(dist.glob("*.tar.gz"))) as sdist:
        assert {"Dockerfile", "pyproject.toml", "requirements-runtime.txt"} <= {
            Path(n).name for n in sdist.getnames() if n.count("/") == 1}


def test_installed_it_converts_the_users_model_from_their_own_folder(tool, user):
    folder, _, rows = user
    version = lambda_tabular(tool, folder, "--version")
    assert version.stdout.strip() == "lambda-tabular 0.1.0", version.stderr
    done = lambda_tabular(tool, folder, "convert", "model.joblib", "--out", "converted")
    assert done.returncode == 0, done.stderr[-3000:]
    meta = json.loads((folder / "converted" / "model.json").read_text())
    assert meta["name"] == "model" and (folder / "converted" / "model.onnx").is_file()
    assert [feature["name"] for feature in meta["features"]] == list(rows.columns)
    for flavor in ("sklearn_skops", "xgboost", "lightgbm"):  # MLflow 3.18's directories: YAML, skops, native files
        shutil.copytree(MLFLOW / flavor, folder / flavor)
        done = lambda_tabular(tool, folder, "convert", flavor, "--out", f"converted-{flavor}")
        assert done.returncode == 0, (flavor, done.stderr[-3000:])
        shutil.rmtree(folder / flavor)
    refused = lambda_tabular(tool, folder, "convert", "missing.joblib", "--out", "x")
    assert refused.returncode != 0 and refused.stderr.count("\n") == 1 and "missing.joblib" in refused.stderr


@pytest.mark.docker
def test_installed_it_builds_an_image_that_answers_as_the_model(docker_engine, tool, user):
    folder, model, rows = user
    built = lambda_tabular(tool, folder, "image", "model.joblib", "--tag", IMAGE)
    assert built.returncode == 0, built.stderr[-3000:]
    check_answers(lambda_tabular(tool, folder, "run", IMAGE, "--payload", payload(rows)), model, rows)


@pytest.mark.docker
def test_installed_it_builds_a_zip_that_answers_as_the_model(docker_engine, tool, user):
    folder, model, rows = user
    built = lambda_tabular(tool, folder, "zip", "model.joblib", "--out", "model.zip")
    assert built.returncode == 0, built.stderr[-3000:]
    check_answers(lambda_tabular(tool, folder, "run", "model.zip", "--payload", payload(rows)), model, rows)

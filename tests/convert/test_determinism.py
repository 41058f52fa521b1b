"""The same model file gives the same bytes, whatever hash seed the converting process has:
the converters gather opset imports in sets, whose order follows the seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import joblib
import onnx
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .models import labels, numeric_data

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ("0", "1", "2", "3", "4")


@pytest.mark.slow
def test_five_hash_seeds_give_one_artifact(tmp_path):
    X, signal = numeric_data(1)
    model = tmp_path / "m.joblib"
    joblib.dump(make_pipeline(StandardScaler(), RandomForestClassifier(40, random_state=0)).fit(X, labels(signal, 3)), model)
    built = {}
    for seed in SEEDS:
        out = tmp_path / f"out-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": "1700000000"}
        done = subprocess.run([sys.executable, "-m", "lambda_tabular.convert", str(model), "--out", str(out)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        built[seed] = ((out / "model.onnx").read_bytes(), (out / "model.json").read_bytes())
    assert len(set(built.values())) == 1
    opsets = [(o.domain, o.version) for o in onnx.load_from_string(built["0"][0]).opset_import]
    assert opsets == sorted(set(opsets)) and len({d for d, _ in opsets}) == len(opsets)

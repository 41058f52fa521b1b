"""Serve a converted model with onnxruntime the way model.json says, independently of convert/."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd


def load(out: Path):
    metadata = json.loads((out / "model.json").read_text())
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    return metadata, session


def predict(metadata: dict, session, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    onnx = metadata["onnx"]
    dtype = np.dtype(onnx["input_dtype"])
    if onnx["input_layout"] == "matrix":
        feeds = {onnx["inputs"][0]: frame.to_numpy(dtype=dtype)}
    else:
        feeds = {}
        for feature in metadata["features"]:
            column = frame[feature["name"]]
            if feature["type"] == "string":
                feeds[feature["name"]] = column.astype(str).to_numpy(dtype=object).reshape(-1, 1)
            else:
                feeds[feature["name"]] = column.to_numpy(dtype=dtype).reshape(-1, 1)
    names = list(onnx["outputs"].values())
    results = dict(zip(onnx["outputs"], session.run(names, feeds), strict=True))
    return {k: np.asarray(v) for k, v in results.items()}

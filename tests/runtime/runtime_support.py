"""Helpers shared by the runtime tests: apps on converted models, event payloads, bodies."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import numpy as np

from lambda_tabular.runtime import App, Settings

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"
MIXED_NUMBERS = ["age", "income", "score"]
MIXED_STRINGS = ["plan", "region"]
GRADES = [f"grade_{c}" for c in "abcdefghijkl"]


def make_app(model_dir: Path, **settings) -> App:
    return App.from_settings(Settings(model_dir=model_dir, metrics=settings.pop("metrics", False), **settings))


def mixed_frame(rows: int, seed: int):
    import pandas as pd  # tests only: the runtime never imports it

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, rows).astype(float),
        "income": rng.normal(50_000, 15_000, rows).round(0),
        "score": rng.normal(0, 1, rows),
        "plan": rng.choice(["basic", "plus", "pro"], rows),
        "region": rng.choice(["north", "south", "east", "west"], rows),
    })
    frame.loc[rng.random(rows) < 0.05, "income"] = np.nan
    signal = (frame.age - 50) / 10 + frame.plan.map({"basic": -1, "plus": 0, "pro": 1.5}) + frame.score
    return frame, (signal + rng.normal(0, 0.3, rows) > 0).astype(int).to_numpy()


def reference_rows(app: App) -> list[list]:
    return copy.deepcopy(app.model.schema.reference["rows"])


def load_event(name: str) -> dict:
    """A real event payload from tests/events/, a fresh copy each time."""
    return json.loads((EVENTS / f"{name}.json").read_text())


def with_body(event: dict, body, *, encoded: bool | None = None) -> dict:
    """``event`` POSTing ``body`` (an object is sent as JSON), encoded as the event says."""
    text = body if isinstance(body, str) else json.dumps(body)
    encode = event.get("isBase64Encoded", False) if encoded is None else encoded
    event = copy.deepcopy(event)
    if "httpMethod" in event:
        event["httpMethod"] = "POST"
    elif isinstance(event.get("requestContext", {}).get("http"), dict):
        event["requestContext"]["http"]["method"] = "POST"
    event["body"] = base64.b64encode(text.encode()).decode() if encode else text
    event["isBase64Encoded"] = encode
    return event


def http_json(response: dict):
    """The JSON body of an HTTP answer, after checking the HTTP envelope."""
    assert set(response) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert response["headers"] == {"Content-Type": "application/json"}
    assert response["isBase64Encoded"] is False
    return json.loads(response["body"])


# The 400 message's start for a body that is no request.
NOT_A_REQUEST = 'body: expected a JSON object with "instances" (rows) or "inputs" (Open Inference Protocol tensors)'

"""What the answer-size check (runtime/response_size.py) costs a request, in this process.

    .venv/bin/python tests/runtime/answer_size_cost.py [--model-dir build/models/churn] [--rows 1]

A script, not a test: the handler's time for one request of --rows rows of the model's example
sample, best of 15 rounds of 200, with the check and with it replaced by nothing.
"""

from __future__ import annotations

import argparse
import json
import timeit
from pathlib import Path

import pandas as pd

from lambda_tabular.runtime import App, Settings, app as runtime_app


def best_us(app: App, event: dict) -> float:
    for _ in range(100):
        app(event)
    return min(timeit.repeat(lambda: app(event), number=200, repeat=15)) / 200 * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=Path("build/models/churn"))
    parser.add_argument("--sample", type=Path, default=Path("build/examples/churn_sample.csv"))
    parser.add_argument("--rows", type=int, default=1)
    args = parser.parse_args()
    app = App.from_settings(Settings(model_dir=args.model_dir, metrics=False, log_level="ERROR"))
    names = [f["name"] for f in json.loads((args.model_dir / "model.json").read_text())["features"]]
    rows = pd.read_csv(args.sample)[names].head(args.rows)
    event = {"instances": rows.to_dict("records")}
    checked = best_us(app, event)
    runtime_app.check_fits = lambda *a, **k: None
    print(f"{len(rows)} rows: {checked:.1f} us with the check, {best_us(app, event):.1f} us without")


if __name__ == "__main__":
    main()

"""Example models for the demo and the tests, trained on synthetic data with fixed seeds.

python -m lambda_tabular.convert.examples --out DIR writes:
- churn.joblib: StandardScaler + GradientBoostingClassifier on 7 numeric customer features
  (a pandas DataFrame), as in the churn-prediction articles.
- water_quality.json: a native XGBoost binary:logistic model on pH, turbidity, TDS and
  temperature, as in the water-quality (AquaChain) article.
Each comes with a CSV of fresh rows (same distribution, other seed) for --sample, and
water_quality_request.json is a request for the demo.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

CHURN_FEATURES = [
    "tenure_months", "monthly_charges", "total_charges", "support_calls",
    "contract_months", "num_products", "days_since_last_login",
]
WATER_FEATURES = ["ph", "turbidity", "tds", "temperature"]


def churn_data(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows).astype(float)
    monthly = rng.normal(70, 25, rows).clip(18, 120).round(2)
    frame = pd.DataFrame({
        "tenure_months": tenure,
        "monthly_charges": monthly,
        "total_charges": (tenure * monthly * rng.uniform(0.9, 1.1, rows)).round(2),
        "support_calls": rng.poisson(1.5, rows).astype(float),
        "contract_months": rng.choice([1.0, 12.0, 24.0], rows, p=[0.5, 0.3, 0.2]),
        "num_products": rng.integers(1, 6, rows).astype(float),
        "days_since_last_login": rng.exponential(12, rows).round(1),
    })
    score = (
        -0.04 * frame.tenure_months + 0.02 * frame.monthly_charges + 0.45 * frame.support_calls
        - 0.06 * frame.contract_months - 0.3 * frame.num_products
        + 0.05 * frame.days_since_last_login + rng.normal(0, 1, rows)
    )
    return frame, (score > np.median(score)).astype(int)


def water_data(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "ph": rng.normal(7.2, 0.9, rows).round(2),
        "turbidity": rng.gamma(2.0, 1.5, rows).round(2),
        "tds": rng.normal(420, 160, rows).clip(20, None).round(0),
        "temperature": rng.normal(19, 6, rows).round(1),
    })
    unsafe = (
        (abs(frame.ph - 7.2) > 1.3) | (frame.turbidity > 5) | (frame.tds > 650)
        | ((frame.temperature > 27) & (frame.turbidity > 3))
    )
    flip = rng.random(rows) < 0.03
    return frame, (unsafe ^ flip).astype(int).to_numpy()


def train_churn():
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = churn_data(4000, seed=42)
    model = Pipeline([
        ("scaler", StandardScaler()),
        ("model", GradientBoostingClassifier(n_estimators=200, max_depth=4, learning_rate=0.1, random_state=42)),
    ])
    return model.fit(X, y)


def train_water_quality():
    from xgboost import XGBClassifier

    X, y = water_data(4000, seed=7)
    model = XGBClassifier(
        n_estimators=150, max_depth=5, learning_rate=0.1, objective="binary:logistic",
        n_jobs=1, random_state=7,
    )
    return model.fit(X, y)


def write_examples(out: Path) -> dict[str, Path]:
    import joblib

    out.mkdir(parents=True, exist_ok=True)
    paths = {"churn": out / "churn.joblib", "water_quality": out / "water_quality.json"}
    joblib.dump(train_churn(), paths["churn"])
    train_water_quality().save_model(paths["water_quality"])
    churn_data(300, seed=1)[0].to_csv(out / "churn_sample.csv", index=False)
    water_data(300, seed=1)[0].to_csv(out / "water_quality_sample.csv", index=False)
    readings = water_data(3, seed=2)[0].to_dict(orient="records")
    (out / "water_quality_request.json").write_text(json.dumps({"instances": readings}, indent=2) + "\n")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m lambda_tabular.convert.examples", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/examples"), help="output directory")
    args = parser.parse_args()
    for name, path in write_examples(args.out).items():
        print(f"{name}: {path}")


if __name__ == "__main__":
    main()

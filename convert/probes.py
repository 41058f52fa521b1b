"""Rows that probe the places where a converted model goes wrong.

Without a --sample file, parity is checked on rows derived from the fitted model:
- "random": values spread like the training data, as far as fitted steps record it
  (scaler means and scales, imputer statistics, tree split thresholds), categories drawn
  from the fitted encoders;
- "threshold": each feature set just at and just past the model's split thresholds (mapped
  back through scalers to raw values), where float32 rounding flips a decision;
- "extreme": values far outside the training range;
- "missing": NaN in each numeric feature the original model accepts NaN for;
- "unseen": categories the encoders never saw, and the empty string.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import Schema

SEED = 20261124
RANDOM_ROWS = 256
THRESHOLDS_PER_FEATURE = 48
UNSEEN = ("__unseen__", "")

ELEMENTWISE_SCALERS = {"StandardScaler", "MinMaxScaler", "RobustScaler", "MaxAbsScaler"}


def probe_rows(model, schema: Schema) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    numeric = [i for i, f in enumerate(schema.features) if f.kind == "number"]
    thresholds = _raw_thresholds(model, len(schema.features))
    center, spread = _location(model, schema, thresholds)
    base = _frame(schema, [_base_row(schema, center)])

    groups: dict[str, pd.DataFrame] = {}
    rows = []
    for _ in range(RANDOM_ROWS):
        row = list(center + spread * rng.normal(size=len(center)))
        for i, f in enumerate(schema.features):
            if f.kind == "string":
                row[i] = rng.choice(f.categories) if f.categories else "a"
        rows.append(row)
    groups["random"] = _frame(schema, rows)

    rows = []
    for i, values in thresholds.items():
        if len(values) > THRESHOLDS_PER_FEATURE:
            values = rng.choice(values, THRESHOLDS_PER_FEATURE, replace=False)
        for t in values:
            for v in _float32_neighbours(t):
                row = _base_row(schema, center)
                row[i] = v
                rows.append(row)
    if rows:
        groups["threshold"] = _frame(schema, rows)

    rows = []
    for i in numeric:
        for k in (-8.0, 8.0, 1e3):
            row = _base_row(schema, center)
            row[i] = center[i] + k * spread[i]
            rows.append(row)
    if rows:
        groups["extreme"] = _frame(schema, rows)

    rows = []
    for f in schema.features:
        if f.kind == "string":
            for value in UNSEEN:
                row = list(base.iloc[0])
                row[schema.names.index(f.name)] = value
                rows.append(row)
    if rows:
        groups["unseen"] = _frame(schema, rows)
    return groups


def missing_rows(schema: Schema, random: pd.DataFrame, feature: str) -> pd.DataFrame:
    """Random rows with ``feature`` missing."""
    rows = random.head(16).copy()
    rows[feature] = np.nan
    return rows


def _frame(schema: Schema, rows: list[list]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=schema.names)
    for f in schema.features:
        frame[f.name] = frame[f.name].astype(object if f.kind == "string" else np.float64)
    return frame


def _base_row(schema: Schema, center: np.ndarray) -> list:
    return [
        (f.categories[0] if f.categories else "a") if f.kind == "string" else float(center[i])
        for i, f in enumerate(schema.features)
    ]


def _float32_neighbours(t: float) -> tuple[float, float]:
    """The largest float32 at or below t and the smallest float32 above it."""
    low = np.float32(t)
    if float(low) > t:
        low = np.nextafter(low, np.float32(-np.inf))
    high = np.nextafter(low, np.float32(np.inf))
    return float(low), float(high)


def _final_and_preceding(model):
    steps = []
    while getattr(model, "steps", None):
        steps.extend(step for _, step in model.steps[:-1])
        model = model.steps[-1][1]
    return model, steps


def _raw_thresholds(model, n_features: int) -> dict[int, np.ndarray]:
    """Split thresholds of the final estimator, in the units of the model's input."""
    final, preceding = _final_and_preceding(model)
    found = _split_thresholds(final)
    if not found:
        return {}
    for step in reversed(preceding):
        name = type(step).__name__
        if name == "SimpleImputer" and not step.add_indicator:
            continue
        if name not in ELEMENTWISE_SCALERS or getattr(step, "n_features_in_", -1) != n_features:
            return {}
        found = {j: _inverse_column(step, j, v, n_features) for j, v in found.items()}
    return {j: np.unique(v[np.isfinite(v)]) for j, v in found.items() if j < n_features}


def _inverse_column(step, column: int, values: np.ndarray, n_features: int) -> np.ndarray:
    matrix = np.zeros((len(values), n_features))
    matrix[:, column] = values
    return step.inverse_transform(matrix)[:, column]


def _split_thresholds(estimator) -> dict[int, np.ndarray]:
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    for tree in _sklearn_trees(estimator):
        inner = tree.feature >= 0
        pairs.append((tree.feature[inner], tree.threshold[inner]))
    for predictors in getattr(estimator, "_predictors", []) or []:
        for predictor in predictors:
            nodes = predictor.nodes
            inner = (nodes["is_leaf"] == 0) & (nodes["is_categorical"] == 0)
            pairs.append((nodes["feature_idx"][inner], nodes["num_threshold"][inner]))
    if hasattr(estimator, "get_booster"):
        pairs.extend(_xgboost_thresholds(estimator))
    found: dict[int, list] = {}
    for features, values in pairs:
        for j, t in zip(features.tolist(), values.tolist()):
            found.setdefault(int(j), []).append(t)
    return {j: np.asarray(v, dtype=np.float64) for j, v in found.items()}


def _sklearn_trees(estimator):
    if hasattr(estimator, "tree_"):
        yield estimator.tree_
    members = getattr(estimator, "estimators_", None)
    if members is None:
        return
    for member in np.ravel(np.asarray(members, dtype=object)):
        if hasattr(member, "tree_"):
            yield member.tree_


def _xgboost_thresholds(estimator):
    frame = estimator.get_booster().trees_to_dataframe()
    frame = frame[frame["Feature"] != "Leaf"]
    names = estimator.get_booster().feature_names
    index = {n: i for i, n in enumerate(names)} if names else None
    features = frame["Feature"].map(lambda n: index[n] if index else int(str(n)[1:]))
    yield features.to_numpy(dtype=np.int64), frame["Split"].to_numpy(dtype=np.float64)


def _location(model, schema: Schema, thresholds: dict[int, np.ndarray]):
    """A centre and a spread for each feature, from what the fitted model records."""
    n = len(schema.features)
    center, spread = np.zeros(n), np.ones(n)
    for j, values in thresholds.items():
        low, mid, high = np.percentile(values, [10, 50, 90])
        center[j], spread[j] = mid, max((high - low) / 2, 1e-3 * max(abs(mid), 1.0))
    step = model
    while getattr(step, "steps", None):
        step = step.steps[0][1]
    if getattr(step, "n_features_in_", -1) == n:
        name = type(step).__name__
        if name == "StandardScaler" and step.with_mean:
            center, spread = step.mean_.copy(), np.where(step.scale_ > 0, step.scale_, 1.0)
        elif name == "RobustScaler" and step.center_ is not None:
            center = step.center_.copy()
        elif name == "MinMaxScaler":
            center = (step.data_min_ + step.data_max_) / 2
            spread = np.maximum((step.data_max_ - step.data_min_) / 4, 1e-6)
        elif name == "SimpleImputer":
            stats = np.asarray(step.statistics_)
            if stats.dtype.kind in "fiu":
                center = stats.astype(np.float64)
    return np.nan_to_num(center), np.nan_to_num(spread, nan=1.0)

"""Rows that probe the places where a converted model goes wrong.

Without a --sample file, parity is checked on rows derived from the fitted model:
- "random": values spread like the training data, as far as fitted steps record it
  (scaler means and scales, imputer statistics, tree split thresholds), categories drawn
  from the fitted encoders;
- "threshold": each feature set at and next to the model's split thresholds (mapped back
  through scalers to raw values): the threshold itself and its float64 neighbours, where a
  float32 comparison flips a decision the original takes in float64; the float32 values just
  at and past it, where float32 rounding flips one; and between neighbouring thresholds that
  collapse into one float32 value;
- "extreme": values far outside the training range;
- "categories": each number a feature reads as a category set to each category the model knows
  and to numbers near them that are none;
- "training": for models that keep their training rows (nearest neighbours), those rows and rows
  recombined from their values, where equidistant neighbours tie;

The build adds, per feature, rows with NaN in a numeric feature and rows with unseen
categories (UNSEEN) in a string feature, wherever the original model accepts them.

A boolean feature takes only 0 and 1: drawn at random in "random" rows, and both in "threshold"
rows (the two sides of its split); never an "extreme" value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .families import split_thresholds
from .schema import Schema, fitted_steps
from .steps import final_and_preceding

SEED = 20261124
RANDOM_ROWS = 256
THRESHOLDS_PER_FEATURE = 48
UNSEEN = ("__unseen__", "")

ELEMENTWISE_SCALERS = {"StandardScaler", "MinMaxScaler", "RobustScaler", "MaxAbsScaler"}


def probe_rows(model, schema: Schema) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    booleans = [i for i, f in enumerate(schema.features) if f.kind == "boolean"]
    thresholds = _raw_thresholds(model, len(schema.features))
    for j, edges in _bin_edges(model).items():
        thresholds[j] = np.unique(np.concatenate([thresholds.get(j, np.empty(0)), edges]))
    center, spread = _location(model, schema, thresholds)
    # Float32-representable, so the base row never sits within rounding distance of a split.
    center = center.astype(np.float32).astype(np.float64)
    center[booleans] = 0.0  # a boolean is 0 or 1, never between

    random = _frame(schema, _random_rows(schema, center, spread, rng))
    for i in booleans:
        random.iloc[:, i] = rng.integers(0, 2, RANDOM_ROWS).astype(np.float64)
    groups = {"random": random}
    derived = {
        "categories": _category_rows(schema, center),
        "threshold": _threshold_rows(schema, center, thresholds, rng),
        "extreme": _extreme_rows(schema, center, spread),
    }
    groups.update({name: _frame(schema, rows) for name, rows in derived.items() if rows})
    training = _training_rows(model, schema, rng)
    if training is not None:
        groups["training"] = _frame(schema, training.tolist())
    return groups


def _random_rows(schema: Schema, center: np.ndarray, spread: np.ndarray, rng) -> list[list]:
    rows = []
    for _ in range(RANDOM_ROWS):
        row = list(center + spread * rng.normal(size=len(center)))
        for i, f in enumerate(schema.features):
            if f.kind == "string":
                row[i] = rng.choice(f.categories) if f.categories else "a"
            elif f.categories:
                row[i] = float(rng.choice(f.categories))
        rows.append(row)
    return rows


def _threshold_rows(schema: Schema, center: np.ndarray, thresholds: dict, rng) -> list[list]:
    """Each boolean's two values, and each split's threshold with its float64 and float32
    neighbours, in the base row."""
    booleans = [i for i, f in enumerate(schema.features) if f.kind == "boolean"]
    rows = []
    for i in booleans:
        for v in (0.0, 1.0):
            row = _base_row(schema, center)
            row[i] = v
            rows.append(row)
    for i, values in thresholds.items():
        if i in booleans:
            continue
        if len(values) > THRESHOLDS_PER_FEATURE:
            values = rng.choice(values, THRESHOLDS_PER_FEATURE, replace=False)
        near = [v for t in values for v in (*_float64_neighbours(t), *_float32_neighbours(t))]
        for v in near + _collapsed(thresholds[i]):
            row = _base_row(schema, center)
            row[i] = v
            rows.append(row)
    return rows


def _extreme_rows(schema: Schema, center: np.ndarray, spread: np.ndarray) -> list[list]:
    rows = []
    for i, f in enumerate(schema.features):
        if f.kind != "number":
            continue
        for k in (-8.0, 8.0, 1e3):
            row = _base_row(schema, center)
            row[i] = center[i] + k * spread[i]
            rows.append(row)
    return rows


TRAINING_ROWS = 64
RECOMBINED_ROWS = 192


def _training_rows(model, schema: Schema, rng) -> np.ndarray | None:
    """Rows a model that keeps its training data saw, and rows mixing their values column by
    column: on integer-valued data these sit at equal distances from several training rows."""
    final, preceding = final_and_preceding(model)
    stored = getattr(final, "_fit_X", None)
    n = len(schema.features)
    if stored is None or any(f.kind == "string" for f in schema.features):
        return None
    X = np.asarray(stored, dtype=np.float64)
    for _, step in reversed(preceding):
        if type(step).__name__ == "SimpleImputer" and not step.add_indicator:
            continue
        if type(step).__name__ not in ELEMENTWISE_SCALERS or X.shape[1] != n:
            return None
        X = step.inverse_transform(X)
    if X.ndim != 2 or X.shape[1] != n or len(X) == 0:
        return None
    seen = X[rng.integers(len(X), size=TRAINING_ROWS)]
    mixed = np.column_stack([X[rng.integers(len(X), size=RECOMBINED_ROWS), j] for j in range(n)])
    return np.vstack([seen, mixed])


def _frame(schema: Schema, rows: list[list]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=schema.names)
    for f in schema.features:
        frame[f.name] = frame[f.name].astype(object if f.kind == "string" else np.float64)
    return frame


def _base_row(schema: Schema, center: np.ndarray) -> list:
    return [
        (f.categories[0] if f.categories else "a") if f.kind == "string"
        else float(f.categories[0] if f.categories else center[i])
        for i, f in enumerate(schema.features)
    ]


def missing_text(model):
    """What a missing value in a text column is, to the model: None where an imputer looks for
    None or an encoder learned None as a category, else NaN, as pandas reads a gap."""
    for step in fitted_steps(model):
        if type(step).__name__ == "SimpleImputer" and step.missing_values is None:
            return None
        if any(values.dtype.kind == "O" and any(v is None for v in values) for values in getattr(step, "categories_", None) or []):
            return None
    return np.nan


def _category_rows(schema: Schema, center: np.ndarray) -> list[list]:
    """For each number read as a category, rows with each category and with numbers near them."""
    rows = []
    for i, f in enumerate(schema.features):
        if f.kind == "number" and f.categories:
            for value in [*f.categories, *_unseen_numbers(f.categories)]:
                row = _base_row(schema, center)
                row[i] = value
                rows.append(row)
    return rows


def _unseen_numbers(categories: list[float]) -> list[float]:
    """Numbers near a numeric feature's categories that are none of them: between and beyond
    them, negative, and fractions of them."""
    known = np.asarray(categories, dtype=np.float64)
    near = np.concatenate([known + 0.5, known - 0.25, known * 1.5, [known.min() - 1, known.max() + 1, -1.0, 0.0, 1e6]])
    return [float(v) for v in np.unique(near) if v not in set(categories)]


def _float64_neighbours(t: float) -> tuple[float, float, float]:
    """t, and the float64 values just below and just above it."""
    return float(np.nextafter(t, -np.inf)), float(t), float(np.nextafter(t, np.inf))


def _float32_neighbours(t: float) -> tuple[float, float]:
    """The largest float32 at or below t and the smallest float32 above it."""
    low = np.float32(t)
    if float(low) > t:
        low = np.nextafter(low, np.float32(-np.inf))
    high = np.nextafter(low, np.float32(np.inf))
    return float(low), float(high)


def _collapsed(thresholds: np.ndarray) -> list[float]:
    """Midpoints between neighbouring thresholds that float32 cannot tell apart."""
    t = np.sort(thresholds)
    same = t[:-1].astype(np.float32) == t[1:].astype(np.float32)
    return ((t[:-1][same] + t[1:][same]) / 2).tolist()


def _bin_edges(model) -> dict[int, np.ndarray]:
    """Inner bin edges of KBinsDiscretizers that read input columns directly (after imputers at
    most), by input column: values just at and past an edge change bins like a split threshold."""
    first = model
    while getattr(first, "steps", None):
        first = first.steps[0][1]
    if hasattr(first, "transformers_"):  # a ColumnTransformer
        routes = [(step, first._transformer_to_input_indices.get(name, [])) for name, step, _ in first.transformers_]
    else:
        routes = [(model, None)]
    found: dict[int, np.ndarray] = {}
    for step, columns in routes:
        kbins = _kbins_after_imputers(step)
        if kbins is None:
            continue
        for j, edges in enumerate(kbins.bin_edges_):
            column = j if columns is None else (columns[j] if j < len(columns) else None)
            if column is not None:
                found[int(column)] = np.asarray(edges, dtype=np.float64)[1:-1]
    return found


def _kbins_after_imputers(step):
    for inner in (getattr(step, "steps", None) and [s for _, s in step.steps]) or [step]:
        name = type(inner).__name__
        if name == "KBinsDiscretizer":
            return inner
        if name != "SimpleImputer" or inner.add_indicator:
            return None
    return None


def _raw_thresholds(model, n_features: int) -> dict[int, np.ndarray]:
    """Split thresholds of the final estimator, in the units of the model's input."""
    final, preceding = final_and_preceding(model)
    found = split_thresholds(final)
    if not found:
        return {}
    for _, step in reversed(preceding):
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

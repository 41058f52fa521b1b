"""Read user-supplied parity rows from CSV or .npy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .schema import Schema


def read_sample(path: Path, schema: Schema) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"--sample {path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        frame = _from_npy(path, schema)
    elif suffix == ".csv":
        frame = _from_csv(path, schema)
    else:
        raise InputError(f"--sample {path}: expected a .csv or .npy file")
    if frame.empty:
        raise InputError(f"--sample {path}: holds no rows")
    _check_booleans(frame, schema, path)
    return frame


def boolean_columns(path: Path) -> set[str]:
    """The columns of a CSV sample that hold only true and false (pandas reads them as bool)."""
    if path.suffix.lower() != ".csv":
        return set()
    raw = _read_csv(path)
    return {str(name) for name in raw.columns if raw[name].dtype == bool}


def _check_booleans(frame: pd.DataFrame, schema: Schema, path: Path) -> None:
    for f in schema.features:
        if f.kind == "boolean":
            column = frame[f.name]
            bad = column.notna() & ~column.isin([0.0, 1.0])
            if bad.any():
                raise InputError(
                    f"--sample {path}: column {f.name!r} is boolean: expected true, false, 0 or 1, "
                    f"got {column[bad].iloc[0]:g}"
                )


def _from_npy(path: Path, schema: Schema) -> pd.DataFrame:
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise InputError(f"--sample {path}: not a readable numeric .npy file ({err})") from err
    if any(f.kind == "string" for f in schema.features):
        raise InputError(f"--sample {path}: the model takes string features; give a .csv file")
    if data.ndim != 2 or data.shape[1] != len(schema.features):
        raise InputError(
            f"--sample {path}: expected a 2-D array with {len(schema.features)} columns, "
            f"got shape {data.shape}"
        )
    if data.dtype.kind not in "fiub":
        raise InputError(f"--sample {path}: expected numbers, got dtype {data.dtype}")
    return pd.DataFrame(data.astype(np.float64), columns=schema.names)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, keep_default_na=True)
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise InputError(f"--sample {path}: not a readable CSV file ({err})") from err


def _from_csv(path: Path, schema: Schema) -> pd.DataFrame:
    raw = _read_csv(path)
    missing = [n for n in schema.names if n not in raw.columns]
    if missing:
        raise InputError(
            f"--sample {path}: missing column(s) {', '.join(missing)}; "
            f"the header must name the model's features: {', '.join(schema.names)}"
        )
    frame = pd.DataFrame(index=raw.index)
    for f in schema.features:
        column = raw[f.name]
        if f.kind == "string":
            frame[f.name] = column.astype(object).where(column.notna(), None).map(
                lambda v: v if v is None else str(v)
            )
        else:
            try:
                frame[f.name] = pd.to_numeric(column, errors="raise").astype(np.float64)
            except (ValueError, TypeError) as err:
                raise InputError(
                    f"--sample {path}: column {f.name!r} must be numeric ({err})"
                ) from err
    return frame

"""Values from a request, checked against their features and turned into numpy arrays.

The per-request path. A clean all-numeric batch is checked at once (a set of the value types,
one numpy conversion, one isfinite); otherwise each column gets the same C-level checks.
Python loops run only to find the first bad value once a check has failed, so that the
message can name its row and feature.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from itertools import chain
from operator import itemgetter

import numpy as np

from .errors import (
    InvalidRow,
    MissingFeature,
    MissingValue,
    NonFinite,
    UnknownCategory,
    UnknownFeature,
    WrongRowLength,
    WrongType,
)
from .schema import NULL_STRING, Feature, Schema

Where = Callable[[int], str]  # row index -> where that value sits in the request, for messages
# What a request becomes: one (n, features) array when no feature is a string, else one
# array per feature (numbers and booleans in the input dtype, strings as object arrays of str).
Inputs = np.ndarray | list

NUMBERS = frozenset((int, float))
NUMBERS_OR_NULL = NUMBERS | {type(None)}
BOOLEANS = NUMBERS | {bool}  # a boolean feature's values: true or false, or the numbers 0 and 1
BOOLEANS_OR_NULL = BOOLEANS | {type(None)}
EXPECTED_BOOLEAN = "expected true or false (or 0 or 1)"
SHOWN_NAMES = 12


def inputs_from_rows(rows: list, schema: Schema, prefix: str) -> Inputs:
    """Rows that are lists in feature order or objects keyed by feature name, checked."""
    names = schema.names
    width = len(names)
    table = _uniform_rows(rows, names)
    if table is None:
        table = _rows_one_by_one(rows, names, prefix)
    if schema.all_numbers:
        clean = clean_numbers(list(chain.from_iterable(table)), (len(table), width), schema)
        if clean is not None:
            return clean
    values = list(zip(*table, strict=True))
    return inputs_from_columns([
        column(values[j], feature, schema.input_dtype, lambda i, name=feature.name: f"{prefix}[{i}].{name}")
        for j, feature in enumerate(schema.features)
    ], schema)


def _uniform_rows(rows: list, names: list[str]) -> list | None:
    """The usual batch, read without a Python loop: every row a list of one value per feature, or
    every row an object with exactly the features' keys (as many keys as features, each of them
    a feature). The rows' values in feature order; None for any other batch."""
    kinds = set(map(type, rows))
    if kinds not in ({list}, {dict}) or set(map(len, rows)) != {len(names)}:
        return None
    if kinds == {list}:
        return rows
    try:
        return list(map(_values_of(names), rows))
    except KeyError:
        return None


def _values_of(names: list[str]) -> Callable[[dict], tuple]:
    """A row object's values in feature order, as a tuple (itemgetter of one key returns the value alone)."""
    if len(names) == 1:
        name = names[0]
        return lambda row: (row[name],)
    return itemgetter(*names)


def _rows_one_by_one(rows: list, names: list[str], prefix: str) -> list:
    """Each row checked on its own, so that a refusal names the first row that is wrong."""
    width = len(names)
    known = frozenset(names)
    table = []
    for i, row in enumerate(rows):
        kind = type(row)
        if kind is list:
            if len(row) != width:
                raise WrongRowLength(
                    f"{prefix}[{i}]: expected {width} values in feature order ({listing(names)}), got {len(row)}"
                )
            table.append(row)
        elif kind is dict:
            if row.keys() != known:
                _check_keys(row, names, known, f"{prefix}[{i}]")
            table.append([row[name] for name in names])
        else:
            raise InvalidRow(
                f"{prefix}[{i}]: expected a list of {width} values or an object keyed by feature name, "
                f"got {as_sent(row)}"
            )
    return table


def inputs_from_columns(columns: list[np.ndarray], schema: Schema) -> Inputs:
    return np.stack(columns, axis=1) if schema.all_numbers else columns


def clean_numbers(values: list, shape: tuple[int, int], schema: Schema) -> np.ndarray | None:
    """The fast path for the usual request: numbers, and nulls where features are nullable,
    checked all at once.

    None when anything needs a closer look (a string, an infinity, a null where it is not
    allowed, an overflow): the caller then checks column by column, which names the culprit.
    """
    if not set(map(type, values)) <= NUMBERS_OR_NULL:
        return None
    try:
        array = np.array(values, dtype=np.float64).reshape(shape)
    except OverflowError:
        return None
    finite = np.isfinite(array)
    if not finite.all():
        if np.isinf(array).any() or (~finite & ~np.array(schema.nullable)).any():
            return None
    if schema.booleans and not _zeros_and_ones(array[:, schema.booleans]):
        return None
    if schema.input_dtype == "float32":
        with np.errstate(over="ignore"):  # a number beyond float32 becomes inf: refused below
            narrow = array.astype(np.float32)
        return None if (np.isinf(narrow) & finite).any() else narrow
    return array


def _zeros_and_ones(values: np.ndarray) -> bool:
    """Whether boolean features' numbers are all 0, 1 or missing (already checked against nullable)."""
    return bool(((values == 0) | (values == 1) | np.isnan(values)).all())


def column(values: Sequence, feature: Feature, dtype: str, where: Where) -> np.ndarray:
    if feature.is_string:
        return strings(values, feature, where)
    if feature.type == "boolean":
        return booleans(values, feature, dtype, where)
    return numbers(values, feature, dtype, where)


def numbers(values: Sequence, feature: Feature, dtype: str, where: Where) -> np.ndarray:
    if not set(map(type, values)) <= NUMBERS_OR_NULL:
        for i, value in enumerate(values):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise WrongType(f"{where(i)}: expected a number, got {as_sent(value)}")
    try:
        array = np.array(values, dtype=np.float64)
    except OverflowError:
        i = next(i for i, v in enumerate(values) if isinstance(v, int) and _overflows(v))
        raise NonFinite(f"{where(i)}: expected a finite number, got an integer too large for a float") from None
    finite = np.isfinite(array)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        infinite = bad[np.isinf(array[bad])]
        if infinite.size:
            i = int(infinite[0])
            raise NonFinite(f"{where(i)}: expected a finite number, got {as_sent(values[i])}")
        if not feature.nullable:
            i = int(bad[0])
            raise MissingValue(
                f"{where(i)}: expected a number, got {as_sent(values[i])}; "
                f"{feature.name} does not accept missing values"
            )
    if dtype == "float32":
        with np.errstate(over="ignore"):
            narrow = array.astype(np.float32)
        overflow = np.flatnonzero(np.isinf(narrow) & finite)
        if overflow.size:
            i = int(overflow[0])
            raise NonFinite(f"{where(i)}: expected a number within float32 range, got {as_sent(values[i])}")
        return narrow
    return array


def booleans(values: Sequence, feature: Feature, dtype: str, where: Where) -> np.ndarray:
    """true and false, or 0 and 1 (pandas treats them alike), as the numbers 0 and 1."""
    if not set(map(type, values)) <= BOOLEANS_OR_NULL:
        i = next(i for i, v in enumerate(values) if v is not None and type(v) not in BOOLEANS)
        raise WrongType(f"{where(i)}: {EXPECTED_BOOLEAN}, got {as_sent(values[i])}")
    try:
        array = np.array(values, dtype=np.float64)
    except OverflowError:  # an integer too large for a float: certainly not 0 or 1
        i = next(i for i, v in enumerate(values) if not (v is None or v != v or v in (0, 1)))
        raise WrongType(f"{where(i)}: {EXPECTED_BOOLEAN}, got {as_sent(values[i])}") from None
    missing = np.isnan(array)
    bad = np.flatnonzero(~missing & (array != 0) & (array != 1))
    if bad.size:
        i = int(bad[0])
        raise WrongType(f"{where(i)}: {EXPECTED_BOOLEAN}, got {as_sent(values[i])}")
    if not feature.nullable and missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise MissingValue(
            f"{where(i)}: {EXPECTED_BOOLEAN}, got {as_sent(values[i])}; {feature.name} does not accept missing values"
        )
    return array.astype(np.float32) if dtype == "float32" else array


def strings(values: Sequence, feature: Feature, where: Where) -> np.ndarray:
    nulls = False
    if set(map(type, values)) != {str}:
        for i, value in enumerate(values):
            if _is_null(value):
                if feature.nullable:
                    nulls = True
                    continue
                raise MissingValue(
                    f"{where(i)}: expected a string, got {as_sent(value)}; "
                    f"{feature.name} does not accept missing values"
                )
            if not isinstance(value, str):
                raise WrongType(f"{where(i)}: expected a string, got {as_sent(value)}")
    if feature.nullable and NULL_STRING in values:
        i = list(values).index(NULL_STRING)
        raise WrongType(f"{where(i)}: got {as_sent(values[i])}, which stands for null here; send null")
    if nulls:
        values = [NULL_STRING if _is_null(v) else v for v in values]
    if feature.categories is not None:
        unknown = set(values).difference(feature.categories, (NULL_STRING,) if feature.nullable else ())
        if unknown:
            i = next(i for i, v in enumerate(values) if v in unknown)
            raise UnknownCategory(
                f"{where(i)}: expected one of {listing(feature.categories, quoted=True)}, got {as_sent(values[i])}"
            )
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _is_null(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _overflows(value: int) -> bool:
    try:
        float(value)
    except OverflowError:
        return True
    return False


def _check_keys(row: dict, names: list[str], known: frozenset, where: str) -> None:
    for key in row:
        if key not in known:
            raise UnknownFeature(f"{where}: unknown feature {quote(key)}; the features are {listing(names)}")
    missing = [n for n in names if n not in row]
    raise MissingFeature(f"{where}: missing feature {quote(missing[0])}")


def as_sent(value) -> str:
    """A value as the client wrote it, with its JSON type: 'string "abc"', 'boolean true'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, str):
        return f"string {quote(value)}"
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return f"number {value!r}"
    if isinstance(value, int):
        if abs(value) < 10**30:
            return f"number {value}"
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def listing(items: Sequence[str], quoted: bool = False) -> str:
    shown = [quote(x) if quoted else str(x) for x in items[:SHOWN_NAMES]]
    more = f", ... ({len(items)} in all)" if len(items) > SHOWN_NAMES else ""
    return ", ".join(shown) + more


def quote(text: str, limit: int = 40) -> str:
    """A string as JSON, cut to ``limit`` characters: how messages show what the client sent.

    Readable Unicode stays as it is; a lone surrogate (which no UTF-8 answer can carry) is shown
    escaped, as \\ud800.
    """
    short = text if len(text) <= limit else text[:limit] + "..."
    shown = json.dumps(short, ensure_ascii=False)
    if shown.isascii():
        return shown
    return shown.encode("utf-8", "backslashreplace").decode("utf-8")

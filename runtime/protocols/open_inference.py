"""Open Inference Protocol v2 (KServe v2, MLServer, Triton) over JSON: "inputs" tensors in,
"outputs" tensors back.

Either one tensor per feature, named as the feature, of shape [N] or [N, 1] (BYTES for string
features, BOOL or numeric for boolean ones), or for models without string features one tensor of
shape [N, F] with the features in order.
"data" is flat in row-major order, or nested lists of that shape.

Work stays linear in the body: a shape has at most MAX_RANK dimensions, each at most MAX_DIM,
checked before any arithmetic; data is unnested at most rank - 1 levels; an echoed id is at
most MAX_ECHO_CHARS characters.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np

from ..errors import MissingFeature, RequestError, UnknownFeature, WrongType
from ..model import Prediction
from ..schema import Feature, Schema
from ..text import encodable
from ..validate import as_sent, clean_numbers, column, inputs_from_columns, listing, quote
from .batch import MAX_ECHO_CHARS, Batch, RowLimit, check_rows, floats, numbers, plain

KEY = "inputs"
NAME = "v2"
FLOATS = ("FP64", "FP32", "FP16")
INTEGERS = ("INT64", "INT32", "INT16", "INT8", "UINT64", "UINT32", "UINT16", "UINT8")
DATATYPES = ("BOOL", *INTEGERS, *FLOATS, "BYTES")
MAX_RANK = 2  # [N], [N, 1] per feature, [N, F] for all features: nothing this protocol serves needs more
MAX_DIM = 2**31 - 1  # each dimension: what an int32 holds
NUMERIC = f"a numeric datatype ({', '.join(FLOATS + INTEGERS)})"
OUTPUT_TYPES = {
    "f": {2: "FP16", 4: "FP32", 8: "FP64"},
    "i": {1: "INT8", 2: "INT16", 4: "INT32", 8: "INT64"},
    "u": {1: "UINT8", 2: "UINT16", 4: "UINT32", 8: "UINT64"},
    "b": {1: "BOOL"},
}


class Tensor(NamedTuple):
    index: int
    name: str
    shape: list[int]
    datatype: str
    data: list

    @property
    def label(self) -> str:
        return f"inputs[{self.index}] ({quote(self.name)})"


def parse(body: dict, schema: Schema, limit: RowLimit) -> Batch:
    raw = body[KEY]
    if type(raw) is not list or not raw:
        raise RequestError(
            'inputs: expected a non-empty list of tensors {"name", "shape", "datatype", "data"}, '
            f"got {as_sent(raw)}"
        )
    options = {"id": _request_id(body), "outputs": _requested_outputs(body, schema)}
    # At most F + 1 tensors are parsed: with more than F, one of the first F + 1 is unknown or a
    # repeat, and _per_feature names it; the rest is never read.
    tensors = [_tensor(item, k) for k, item in enumerate(raw[: len(schema.features) + 1])]
    if len(tensors) == 1 and tensors[0].name not in schema.names:
        inputs, rows = _matrix(tensors[0], schema, limit)
    else:
        inputs, rows = _per_feature(tensors, schema, limit)
    return Batch(inputs, rows, options)


def respond(batch: Batch, prediction: Prediction, schema: Schema) -> dict:
    tensors = {}
    if prediction.labels is not None:
        tensors["label"] = _output("label", prediction.labels, plain(prediction.labels))
    served = numbers(prediction, schema)
    if served is not None:
        name, values = served
        tensors[name] = _output(name, values, floats(values.ravel()))
        if schema.task == "classification" and values.ndim == 2:
            tensors[name]["parameters"] = {"classes": schema.classes}
    answer = {"model_name": schema.name, "model_version": schema.version}
    if batch.options.get("id") is not None:
        answer["id"] = batch.options["id"]
    answer["outputs"] = [tensors[name] for name in batch.options.get("outputs") or tensors]
    return answer


def _matrix(tensor: Tensor, schema: Schema, limit: RowLimit):
    width = len(schema.features)
    if len(tensor.shape) != 2 or tensor.shape[1] != width:
        raise UnknownFeature(
            f'{tensor.label}: not a feature name, and not one [N, {width}] tensor of every feature; '
            f"send one tensor per feature ({listing(schema.names)}) or one of shape [N, {width}]"
        )
    if not schema.all_numbers:
        strings = [f.name for f in schema.features if f.is_string]
        raise RequestError(
            f"{tensor.label}: one [N, {width}] tensor carries numbers only, and this model takes strings "
            f"({listing(strings)}); send one tensor per feature"
        )
    rows = tensor.shape[0]
    check_rows(rows, limit, tensor.label)
    # One datatype for every column: numeric, or also BOOL when every feature is boolean.
    _check_datatype(tensor, next((f for f in schema.features if f.type == "number"), schema.features[0]))
    matrix = clean_numbers(tensor.data, (rows, width), schema)
    if matrix is None:
        matrix = inputs_from_columns([
            column(tensor.data[j::width], feature, schema.input_dtype, lambda i, j=j: _cell(tensor, schema, i, j))
            for j, feature in enumerate(schema.features)
        ], schema)
    _check_integers(tensor, matrix, lambda flat: _cell(tensor, schema, *divmod(flat, width)))
    return matrix, rows


def _per_feature(tensors: list[Tensor], schema: Schema, limit: RowLimit):
    by_name: dict[str, Tensor] = {}
    known = set(schema.names)
    for tensor in tensors:
        if tensor.name not in known:
            also = f" or one [N, {len(known)}] tensor" if schema.all_numbers else ""
            raise UnknownFeature(
                f"inputs[{tensor.index}]: unknown feature {quote(tensor.name)}; send one tensor per feature "
                f"({listing(schema.names)}){also}"
            )
        if tensor.name in by_name:
            raise RequestError(f"{tensor.label}: a second tensor for the same feature")
        if len(tensor.shape) not in (1, 2) or tensor.shape[1:] not in ([], [1]):
            raise RequestError(f"{tensor.label}: expected shape [N] or [N, 1] for one feature, got {tensor.shape}")
        first = next(iter(by_name.values()), tensor)
        if tensor.shape[0] != first.shape[0]:
            raise RequestError(f"{tensor.label}: {tensor.shape[0]} rows, but {first.label} has {first.shape[0]}")
        by_name[tensor.name] = tensor
    for name in schema.names:
        if name not in by_name:
            raise MissingFeature(f'inputs: missing feature "{name}"')
    rows = tensors[0].shape[0]
    check_rows(rows, limit, "inputs")
    columns = []
    for feature in schema.features:
        tensor = by_name[feature.name]
        _check_datatype(tensor, feature)
        where = lambda i, t=tensor: f"{t.label} row {i}"  # noqa: E731
        values = column(tensor.data, feature, schema.input_dtype, where)
        _check_integers(tensor, values, where)
        columns.append(values)
    return inputs_from_columns(columns, schema), rows


def _check_integers(tensor: Tensor, values: np.ndarray, where) -> None:
    """INT/UINT tensors must hold whole numbers (non-negative for UINT); null stays null."""
    if tensor.datatype not in INTEGERS:
        return
    finite = np.isfinite(values)
    bad = finite & (values != np.trunc(values))
    unsigned = tensor.datatype.startswith("U")
    if unsigned:
        bad |= finite & (values < 0)
    if bad.any():
        flat = int(np.flatnonzero(bad)[0])
        kind = "a non-negative integer" if unsigned else "an integer"
        raise WrongType(f"{where(flat)}: expected {kind} for datatype {tensor.datatype}, got {as_sent(tensor.data[flat])}")


def _cell(tensor: Tensor, schema: Schema, row: int, col: int) -> str:
    return f"{tensor.label} row {row}, column {col} ({schema.names[col]})"


def _check_datatype(tensor: Tensor, feature: Feature) -> None:
    if feature.type == "number" and tensor.datatype not in FLOATS + INTEGERS:
        raise WrongType(f"{tensor.label}: datatype {tensor.datatype}, expected {NUMERIC} for {feature.name}")
    if feature.type == "boolean" and tensor.datatype not in ("BOOL", *FLOATS, *INTEGERS):
        raise WrongType(
            f"{tensor.label}: datatype {tensor.datatype}, expected BOOL (or {NUMERIC} holding 0 and 1) "
            f"for boolean feature {feature.name}"
        )
    if feature.is_string and tensor.datatype != "BYTES":
        raise WrongType(f"{tensor.label}: datatype {tensor.datatype}, expected BYTES for string feature {feature.name}")


def _tensor(item, k: int) -> Tensor:
    where = f"inputs[{k}]"
    if not isinstance(item, dict):
        raise RequestError(f'{where}: expected a tensor {{"name", "shape", "datatype", "data"}}, got {as_sent(item)}')
    name, shape, datatype, data = (item.get(key) for key in ("name", "shape", "datatype", "data"))
    if not isinstance(name, str):
        raise RequestError(f"{where}.name: expected a string, got {as_sent(name)}")
    # The rank first (len is O(1)), then each dimension's size: no arithmetic on what a caller
    # sends until it is small (400,000 dimensions or a product of thousands of digits are refused).
    if not (
        isinstance(shape, list) and 1 <= len(shape) <= MAX_RANK
        and all(type(d) is int and 0 <= d <= MAX_DIM for d in shape)
    ):
        raise RequestError(
            f"{where}.shape: expected a list of 1 to {MAX_RANK} whole numbers (at most {MAX_DIM}) "
            f"such as [N, 1], got {_short(shape)}"
        )
    if datatype not in DATATYPES:
        raise RequestError(f"{where}.datatype: expected one of {', '.join(DATATYPES)}, got {_short(datatype)}")
    if not isinstance(data, list):
        raise RequestError(f"{where}.data: expected a list of values, got {as_sent(data)}")
    tensor = Tensor(k, name, shape, datatype, _flatten(data, len(shape) - 1))
    size = shape[0] * shape[1] if len(shape) == 2 else shape[0]
    if len(tensor.data) != size:
        raise RequestError(f"{tensor.label}: shape {shape} holds {size} values, data has {len(tensor.data)}")
    return tensor


def _flatten(data: list, levels: int) -> list:
    """Row-major nested lists ([[1, 2], [3, 4]]) as one flat list, unnested at most ``levels``
    times (rank - 1); anything irregular stays put."""
    for _ in range(levels):
        if not (data and type(data[0]) is list and all(type(part) is list for part in data)):
            break
        data = [value for part in data for value in part]
    return data


def _request_id(body: dict):
    """The id to echo: a string of at most MAX_ECHO_CHARS characters that UTF-8 can carry."""
    value = body.get("id")
    if value is None:
        return None
    if not isinstance(value, str):
        raise RequestError(f"id: expected a string, got {as_sent(value)}")
    if len(value) > MAX_ECHO_CHARS:
        raise RequestError(f"id: expected at most {MAX_ECHO_CHARS} characters, got {len(value)}")
    if not encodable(value):
        raise RequestError(f"id: expected valid Unicode, got {as_sent(value)} (a lone surrogate)")
    return value


def _requested_outputs(body: dict, schema: Schema) -> list[str] | None:
    wanted = body.get("outputs")
    if wanted is None:
        return None
    names = list(schema.outputs)
    if not isinstance(wanted, list):
        raise RequestError(f'outputs: expected a list of {{"name": ...}} objects, got {as_sent(wanted)}')
    found = []
    for k, item in enumerate(wanted):
        name = item.get("name") if isinstance(item, dict) else None
        if name not in names:
            raise RequestError(f"outputs[{k}]: expected an object naming one of {listing(names, quoted=True)}, got {_short(item)}")
        if name in found:
            raise RequestError(f"outputs[{k}]: {json.dumps(name)} is already asked for at outputs[{found.index(name)}]; "
                               "name each output once")
        found.append(name)
    return found


def _output(name: str, values: np.ndarray, data: list) -> dict:
    datatype = OUTPUT_TYPES.get(values.dtype.kind, {}).get(values.dtype.itemsize, "BYTES")
    return {"name": name, "shape": list(values.shape), "datatype": datatype, "data": data}


def _short(value) -> str:
    if isinstance(value, list) and len(value) <= 4 and all(
        type(v) in (float, str) or (type(v) is int and abs(v) < 10**30) for v in value
    ):
        return json.dumps(value)[:80]
    return as_sent(value)

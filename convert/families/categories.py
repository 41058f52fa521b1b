"""Categorical inputs that a model's own estimator encodes before its trees see them.

HistGradientBoosting (its OrdinalEncoder) and LightGBM trained on pandas ``category`` columns
(its pandas_categorical) turn each category into a code, its position among the categories
they know, and every other value, missing ones included, into NaN. A family module that does
this declares ``categories(estimator) -> Categories | None``; ``encode_categories`` writes the
encoding into the converted graph, in front of the trees."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import TensorProto, helper, numpy_helper


def is_missing(value) -> bool:
    """None or NaN: what pandas and scikit-learn take for a missing value in a column of objects."""
    return value is None or (isinstance(value, float) and value != value)


@dataclass
class Categories:
    """How the estimator's own encoder reads its input: ``columns`` maps each categorical input
    column to the values it knows (code = position); ``order`` lists the input columns in the
    order the trees see them."""

    columns: dict[int, np.ndarray]
    order: list[int]
    pandas: bool  # fitted on pandas ``category`` columns, which it then expects

    def strings(self) -> dict[int, list[str]]:
        """The categorical columns whose values are text, with their values."""
        return {j: [str(v) for v in values] for j, values in self.columns.items() if values.dtype.kind in "OUS"}


# --- the encoding, written in ONNX ---------------------------------------------------------------


def encode_categories(onx, found: Categories, inputs: dict[str, int] | None = None) -> None:
    """Write, in ``onx``, the estimator's encoding in front of its trees.

    The trees' input holds the estimator's input columns in order, as numbers. ``inputs``, when
    given, replaces that matrix by one graph input per column (name -> column): text columns
    are encoded from their strings, the others taken as they are."""
    from ..tree_ensemble import LEGACY, ML

    graph = onx.graph
    trees = [n for n in graph.node if n.domain == ML and n.op_type in LEGACY]
    if len(trees) != 1:
        raise ValueError("expected one tree ensemble")
    tree = trees[0]
    source = tree.input[0]
    real = _element_type(onx, source)
    prefix = "categories"
    nodes, constants = [], []

    def constant(name: str, value) -> str:
        constants.append(numpy_helper.from_array(np.asarray(value), f"{prefix}_{name}"))
        return f"{prefix}_{name}"

    def add(op: str, args: list[str], name: str, **attrs) -> str:
        out = f"{prefix}_{name}"
        nodes.append(helper.make_node(op, args, [out], name=out, **attrs))
        return out

    nan = constant("nan", np.array([np.nan], dtype=_numpy(real)))
    columns = []
    for j in found.order:
        values = found.columns.get(j)
        if inputs is not None:
            name = next(n for n, column in inputs.items() if column == j)
            column = name if values is None or values.dtype.kind not in "OUS" else None
            if column is None:  # text: its code straight from the string
                codes = add("LabelEncoder", [name], f"codes{j}", domain=ML, keys_strings=[str(v) for v in values],
                            values_floats=[float(c) for c in range(len(values))], default_float=float("nan"))
                columns.append(add("Cast", [codes], f"column{j}", to=real))
                continue
        else:
            column = add("Gather", [source, constant(f"index{j}", np.array([j], dtype=np.int64))], f"raw{j}", axis=1)
        if values is None:
            columns.append(column)
            continue
        known = constant(f"values{j}", values.astype(_numpy(real)).reshape(1, -1))
        hits = add("Cast", [add("Equal", [column, known], f"equal{j}")], f"hits{j}", to=real)
        code = add("Cast", [add("ArgMax", [hits], f"argmax{j}", axis=1, keepdims=1)], f"code{j}", to=real)
        found_any = add("Cast", [add("ReduceMax", [hits], f"found{j}", axes=[1], keepdims=1)], f"known{j}", to=TensorProto.BOOL)
        columns.append(add("Where", [found_any, code, nan], f"column{j}"))
    encoded = add("Concat", columns, "encoded", axis=1)
    tree.input[0] = encoded
    position = list(graph.node).index(tree)
    for offset, node in enumerate(nodes):
        graph.node.insert(position + offset, node)
    graph.initializer.extend(constants)
    if inputs is not None:
        _replace_matrix_input(onx, source, inputs, found)
        for entry in onx.opset_import:
            if entry.domain == ML:
                entry.version = max(entry.version, 2)  # LabelEncoder's default_float


def _replace_matrix_input(onx, source: str, inputs: dict[str, int], found: Categories) -> None:
    graph = onx.graph
    if any(source in node.input for node in graph.node):
        raise ValueError("the trees' input feeds other nodes")
    matrix = next(i for i in graph.input if i.name == source)
    real = matrix.type.tensor_type.elem_type
    text = found.strings()
    del graph.input[:]
    for name, column in inputs.items():
        kind = TensorProto.STRING if column in text else real
        graph.input.append(helper.make_tensor_value_info(name, kind, [None, 1]))


def _element_type(onx, name: str) -> int:
    for info in list(onx.graph.input) + list(onx.graph.value_info):
        if info.name == name:
            return info.type.tensor_type.elem_type
    from ..tree_ensemble import element_types

    return element_types(onx).get(name, TensorProto.DOUBLE)


def _numpy(element: int):
    return np.float64 if element == TensorProto.DOUBLE else np.float32

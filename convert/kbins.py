"""KBinsDiscretizer converted exactly, in the input's own precision.

skl2onnx's converter casts every column to float32 before comparing it with float32 bin
edges, so values near an edge fall into the neighbouring bin (the parity probes find them).
This one compares in the input's type, as scikit-learn does (``searchsorted(edges[1:-1], x,
side="right")``, that is the number of inner edges <= x): with exact float64 edges for float64
inputs, and for float32 inputs each edge as the smallest float32 not below it, so that every
float32 input lands in the bin it lands in scikit-learn.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

_registered = False


def register() -> None:
    global _registered
    if _registered:
        return
    from skl2onnx import update_registered_converter
    from skl2onnx.shape_calculators.k_bins_discretiser import calculate_sklearn_k_bins_discretiser
    from sklearn.preprocessing import KBinsDiscretizer

    update_registered_converter(
        KBinsDiscretizer, "SklearnKBinsDiscretizer", calculate_sklearn_k_bins_discretiser, convert_kbins,
    )
    _registered = True


def convert_kbins(scope, operator, container) -> None:
    from skl2onnx.common.data_types import DoubleTensorType

    op = operator.raw_operator
    if op.encode == "onehot":
        raise RuntimeError(
            "KBinsDiscretizer(encode='onehot') gives a sparse matrix, which ONNX has no form for; "
            "use encode='onehot-dense' or 'ordinal'"
        )
    double = isinstance(operator.outputs[0].type, DoubleTensorType)
    dtype, onnx_type = (np.float64, TensorProto.DOUBLE) if double else (np.float32, TensorProto.FLOAT)
    source = operator.inputs[0].full_name
    typed = scope.get_unique_variable_name("kbins_input")
    container.add_node("Cast", [source], [typed], name=scope.get_unique_operator_name("Cast"), to=onnx_type)
    axis_one = scope.get_unique_variable_name("kbins_axis")
    container.add_initializer(axis_one, TensorProto.INT64, [1], [1])

    pieces = []
    for j, edges in enumerate(op.bin_edges_):
        inner = _edges(np.asarray(edges, dtype=np.float64)[1:-1], dtype)
        column = _name(scope, container, "Gather", [typed, _const(scope, container, "kbins_column", TensorProto.INT64, [1], [j])], axis=1)
        if len(inner):
            edges_name = _const(scope, container, "kbins_edges", onnx_type, [len(inner)], inner.tolist())
            above = _name(scope, container, "GreaterOrEqual", [column, edges_name])
            counted = _name(scope, container, "Cast", [above], to=TensorProto.INT64)
            index = _name(scope, container, "ReduceSum", [counted, axis_one], keepdims=1)
        else:
            zero = _const(scope, container, "kbins_zero", onnx_type, [], [0.0])
            index = _name(scope, container, "Cast", [_name(scope, container, "Mul", [column, zero])], to=TensorProto.INT64)
        if op.encode == "ordinal":
            pieces.append(_name(scope, container, "Cast", [index], to=onnx_type))
        else:
            depth = _const(scope, container, "kbins_depth", TensorProto.INT64, [], [int(op.n_bins_[j])])
            # onnxruntime's OneHot has no float64 kernel: 0.0 and 1.0 are exact in float32 anyway
            values = _const(scope, container, "kbins_onehot", TensorProto.FLOAT, [2], [0.0, 1.0])
            onehot = _name(scope, container, "OneHot", [index, depth, values], axis=-1)  # (N, 1, bins)
            flat = _name(scope, container, "Squeeze", [onehot, axis_one])
            pieces.append(_name(scope, container, "Cast", [flat], to=onnx_type))
    container.add_node(
        "Concat", pieces, [operator.outputs[0].full_name], name=scope.get_unique_operator_name("Concat"), axis=1,
    )


def _edges(inner: np.ndarray, dtype) -> np.ndarray:
    """Edges in ``dtype``, each as the smallest value of that type not below it: ``x >= edge``
    then answers for every input of that type what it answers in float64."""
    if dtype == np.float64:
        return inner
    nearest = inner.astype(np.float32)
    return np.where(nearest.astype(np.float64) < inner, np.nextafter(nearest, np.float32(np.inf)), nearest)


def _const(scope, container, stem: str, onnx_type: int, shape: list, values: list) -> str:
    name = scope.get_unique_variable_name(stem)
    container.add_initializer(name, onnx_type, shape, values)
    return name


def _name(scope, container, op_type: str, inputs: list, **attrs) -> str:
    output = scope.get_unique_variable_name(f"kbins_{op_type.lower()}")
    container.add_node(op_type, inputs, [output], name=scope.get_unique_operator_name(op_type), **attrs)
    return output

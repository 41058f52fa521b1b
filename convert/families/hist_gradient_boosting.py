"""scikit-learn's HistGradientBoostingClassifier and HistGradientBoostingRegressor.

They compare float64 inputs with float64 thresholds (``num_threshold``) and add float64 leaf
values to a float64 baseline. skl2onnx numbers tree ``k`` of iteration ``i`` as
``i * n_trees_per_iteration + k`` when an iteration has several trees (multiclass), else ``i``,
and each node by its index in the predictor's node array.

With categorical features (``categorical_features``, by default every pandas ``category``
column), the estimator first passes its input through its own ColumnTransformer: an
OrdinalEncoder turns each categorical column's values into codes 0..k-1 (unknown and missing
values into NaN) and moves those columns in front of the numeric ones. Its trees then split on
those codes, sending the codes of a set one way. skl2onnx knows neither step: ``encode_categories``
writes the encoding in front of the trees, and the sets become BRANCH_MEMBER nodes
(convert/tree_ensemble.py), a missing code going where the estimator sends missing values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import TensorProto, helper, numpy_helper

NAMES = ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor")


def exact_trees(estimator):
    from . import ExactTrees

    if not _is_hist_gradient_boosting(estimator) or not getattr(estimator, "_predictors", None):
        return None
    found = ExactTrees("HistGradientBoosting")
    for i, trees in enumerate(estimator._predictors):
        for k, predictor in enumerate(trees):
            tree_id = i * len(trees) + k if len(trees) > 1 else i
            nodes = predictor.nodes
            for j in range(len(nodes)):
                feature = int(nodes["feature_idx"][j])
                if nodes["is_leaf"][j]:
                    found.leaves[tree_id, j] = float(nodes["value"][j])
                elif nodes["is_categorical"][j]:
                    bitset = predictor.raw_left_cat_bitsets[nodes["bitset_idx"][j]]
                    found.members[tree_id, j] = (feature, _members(bitset))
                else:
                    found.splits[tree_id, j] = (feature, float(nodes["num_threshold"][j]))
    found.base = np.asarray(estimator._baseline_prediction, dtype=np.float64).ravel()
    return found


def _members(bitset: np.ndarray) -> tuple[int, ...]:
    """The values whose bit is set in one of scikit-learn's 256-bit category bitsets."""
    bits = np.unpackbits(np.asarray(bitset, dtype="<u4").view(np.uint8), bitorder="little")
    return tuple(np.flatnonzero(bits).tolist())


@dataclass
class Categories:
    """How the estimator's own encoder reads its input: ``columns`` maps each categorical input
    column to the values it knows (code = position); ``order`` lists the input columns in the
    order the trees see them."""

    columns: dict[int, np.ndarray]
    order: list[int]

    def strings(self) -> dict[int, list[str]]:
        """The categorical columns whose values are text, with their values."""
        return {j: [str(v) for v in values] for j, values in self.columns.items() if values.dtype.kind in "OUS"}


def categories(estimator) -> Categories | None:
    """The estimator's categorical encoding, or None when it has no categorical feature."""
    if not _is_hist_gradient_boosting(estimator) or getattr(estimator, "is_categorical_", None) is None:
        return None
    preprocessor = getattr(estimator, "_preprocessor", None)
    if preprocessor is None:
        from ..errors import UnsupportedModel

        raise UnsupportedModel(
            "this HistGradientBoosting release reads categorical values without encoding them first; "
            "convert it with scikit-learn 1.4 or later (--sklearn-version), or refit with a current release"
        )
    inputs = preprocessor._transformer_to_input_indices
    encoder = preprocessor.named_transformers_["encoder"]
    columns = {}
    for j, values in zip(inputs["encoder"], encoder.categories_):
        values = np.asarray(values)
        known = ~np.asarray([_is_missing(v) for v in values], dtype=bool)
        columns[int(j)] = values[known]
    order = [int(j) for j in inputs["encoder"]] + [int(j) for j in inputs["numerical"]]
    return Categories(columns, order)


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _is_hist_gradient_boosting(estimator) -> bool:
    return type(estimator).__name__ in NAMES


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
    prefix = "hgb_categories"
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

"""Repairs to skl2onnx's graphs where they would answer differently from scikit-learn."""

from __future__ import annotations

import numpy as np
from onnx import ModelProto, helper, numpy_helper

from .families import split_thresholds
from .schema import fitted_steps
from .steps import final_and_preceding
from .tree_ensemble import LEGACY


def round_thresholds_down(onx: ModelProto, model) -> int:
    """Store each `x <= t` threshold as the largest float32 not above the float64 t.

    The original compares with float64 thresholds. Rounded to the nearest float32, a
    threshold can land above t, and float32 inputs between t and it take the wrong branch;
    rounded down, every float32 input takes the branch it takes in the original.
    Returns how many thresholds changed.
    """
    final, _ = final_and_preceding(model)
    thresholds = split_thresholds(final)
    if not thresholds:
        return 0
    lookup = {j: _float32_to_floor(values) for j, values in thresholds.items()}
    changed = 0
    for node in onx.graph.node:
        if node.op_type not in LEGACY:
            continue
        attrs = {a.name: a for a in node.attribute}
        if "nodes_values" not in attrs:
            continue
        modes = [m.decode() for m in attrs["nodes_modes"].strings]
        features = list(attrs["nodes_featureids"].ints)
        values = attrs["nodes_values"].floats
        for i, mode in enumerate(modes):
            if mode != "BRANCH_LEQ":
                continue
            floor = lookup.get(features[i], {}).get(np.float32(values[i]).item())
            if floor is not None and floor != values[i]:
                values[i] = floor
                changed += 1
    return changed


def _float32_to_floor(values: np.ndarray) -> dict[float, float]:
    """Nearest float32 -> float32 floor, for the thresholds whose floor is unambiguous."""
    nearest = values.astype(np.float32)
    floor = np.where(nearest.astype(np.float64) > values, np.nextafter(nearest, np.float32(-np.inf)), nearest)
    mapping: dict[float, set] = {}
    for n, f in zip(nearest.tolist(), floor.tolist(), strict=True):
        mapping.setdefault(n, set()).add(f)
    return {n: fs.pop() for n, fs in mapping.items() if len(fs) == 1}


def double_imputers(onx: ModelProto, model) -> int:
    """Replace ai.onnx.ml Imputer nodes, which onnxruntime runs on float32 only, with
    Where(IsNaN(x), statistics, x) on float64, using the imputer's own float64 statistics."""
    statistics = [
        np.asarray(step.statistics_, dtype=np.float64)
        for step in fitted_steps(model)
        if type(step).__name__ == "SimpleImputer" and np.asarray(step.statistics_).dtype.kind in "fiu"
    ]
    graph = onx.graph
    replaced = 0
    for node in list(graph.node):
        if node.op_type != "Imputer" or node.domain != "ai.onnx.ml":
            continue
        attrs = {a.name: a for a in node.attribute}
        stored = np.asarray(attrs["imputed_value_floats"].floats, dtype=np.float32)
        replaced_value = attrs["replaced_value_float"].f if "replaced_value_float" in attrs else np.nan
        if not np.isnan(replaced_value):
            continue
        exact = next(
            (s for s in statistics if s.shape == stored.shape and np.array_equal(s.astype(np.float32), stored)),
            stored.astype(np.float64),
        )
        name = node.output[0]
        constant = f"{name}_statistics"
        is_nan = f"{name}_isnan"
        graph.initializer.append(numpy_helper.from_array(exact, constant))
        new_nodes = [
            helper.make_node("IsNaN", [node.input[0]], [is_nan], name=f"{node.name}_isnan"),
            helper.make_node("Where", [is_nan, constant, node.input[0]], [name], name=f"{node.name}_where"),
        ]
        index = list(graph.node).index(node)
        graph.node.remove(node)
        for offset, new in enumerate(new_nodes):
            graph.node.insert(index + offset, new)
        replaced += 1
    return replaced


def drop_unused_initializers(onx: ModelProto) -> int:
    """Remove constants no node reads (skl2onnx leaves some behind; onnxruntime warns of each)."""
    graph = onx.graph
    used = _names_read(graph)
    unused = [init for init in graph.initializer if init.name not in used]
    for init in unused:
        graph.initializer.remove(init)
    return len(unused)


def _names_read(graph) -> set[str]:
    """Every name a node of ``graph`` or of its subgraphs (Scan, Loop, If bodies) reads."""
    names = {o.name for o in graph.output}
    for node in graph.node:
        names.update(node.input)
        for attr in node.attribute:
            for sub in [attr.g] if attr.HasField("g") else list(attr.graphs):
                names |= _names_read(sub)
    return names

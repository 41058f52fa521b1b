"""LightGBM models (LGBMClassifier, LGBMRegressor, and native boosters wrapped by
convert.third_party).

LightGBM compares float64 inputs with float64 thresholds and sums float64 leaf values; its
initial score is folded into the first tree's leaves. onnxmltools numbers each tree's nodes as
it walks them: the root 0, then a node's two children before their subtrees.

A categorical split sends a set of categories left. LightGBM first cuts the value to an integer
toward zero and sends NaN and negative numbers right (``truncate_categories`` writes the cut in
front of the trees); trained on pandas ``category`` columns, its Python package first turns
each value into its code (``categories``)."""

from __future__ import annotations

import numpy as np
from onnx import numpy_helper

from .exact import ExactTrees


def nodes_by_id(booster) -> dict:
    """(tree, node id) -> (ONNX node mode, feature, threshold or leaf value), as onnxmltools
    numbers the nodes; mode "OTHER" for splits that are not `x <= threshold`."""
    nodes = {}
    for tree_id, tree in enumerate(booster.dump_model()["tree_info"]):
        count = 1
        stack = [(tree["tree_structure"], 0)]
        while stack:
            node, node_id = stack.pop()
            if "split_feature" not in node:
                nodes[tree_id, node_id] = ("LEAF", 0, float(node["leaf_value"]))
                continue
            left, right = count, count + 1
            count += 2
            leq = node["decision_type"] == "<="
            nodes[tree_id, node_id] = ("BRANCH_LEQ" if leq else "OTHER", int(node["split_feature"]), float(node["threshold"]) if leq else None)
            stack.extend(((node["right_child"], right), (node["left_child"], left)))
    return nodes


def exact_trees(estimator):
    from ..third_party import lightgbm_booster_of

    booster = lightgbm_booster_of(estimator)
    if booster is None:
        return None
    found = ExactTrees("LightGBM")
    trees = booster.dump_model()["tree_info"]
    if any(node["decision_type"] == "==" for tree in trees for node in _splits(tree["tree_structure"])):
        # onnxmltools writes a categorical split as a chain of equality tests, which compare the
        # value as it is where LightGBM truncates it: the trees are written from the model instead.
        found.nodes = lambda converted, classifier: _own_nodes(trees, converted, classifier, found)
        return found
    for key, (mode, feature, value) in nodes_by_id(booster).items():
        if mode == "LEAF":
            found.leaves[key] = value
        elif mode == "BRANCH_LEQ":
            found.splits[key] = (feature, value)
    return found


def categories(estimator):
    """LightGBM trained on pandas ``category`` columns: each such column's categories, in the
    order its Python package turns them into codes (pandas_categorical); None otherwise."""
    from ..third_party import lightgbm_booster_of
    from .categories import Categories

    booster = lightgbm_booster_of(estimator)
    known = getattr(booster, "pandas_categorical", None) if booster is not None else None
    if not known:
        return None
    infos = booster.dump_model()["feature_infos"]
    columns = [j for j, info in enumerate(infos.values()) if isinstance(info, dict) and info.get("values")]
    if len(columns) != len(known):
        from ..errors import UnsupportedModel

        raise UnsupportedModel(f"LightGBM records categories for {len(known)} pandas columns but splits "
                               f"{len(columns)} columns as categories; retrain on integer codes")
    return Categories({j: np.asarray(values) for j, values in zip(columns, known)}, list(range(len(infos))), pandas=True)


def categorical_features(booster) -> list[int]:
    """The input columns LightGBM splits as categories."""
    return sorted({int(n["split_feature"]) for tree in booster.dump_model()["tree_info"]
                   for n in _splits(tree["tree_structure"]) if n["decision_type"] == "=="})


def _splits(root):
    stack = [root]
    while stack:
        node = stack.pop()
        if "split_feature" in node:
            yield node
            stack.extend((node["left_child"], node["right_child"]))


def _own_nodes(trees: list, converted: dict, classifier: bool, found) -> dict:
    """LightGBM's trees in the layout of the converter's TreeEnsemble attributes: every split
    and leaf as LightGBM computes it, in float64, each tree scoring the target the converter
    gave it. A categorical split becomes a node of ``found.members``: LightGBM sends the
    categories listed to the left and everything else (NaN, negative numbers) to the right."""
    from ..tree_ensemble import NotRewritten

    prefix = "class" if classifier else "target"
    target_of = dict(zip(converted[f"{prefix}_treeids"], converted[f"{prefix}_ids"]))
    columns = {k: [] for k in ("tree", "node", "feature", "mode", "value", "true", "false", "missing")}
    leaves = {k: [] for k in ("tree", "node", "target", "weight")}
    for tree_id, tree in enumerate(trees):
        if tree_id not in target_of:
            raise NotRewritten(f"LightGBM tree {tree_id} has no target in the converted model")
        ids = {id(tree["tree_structure"]): 0}
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            node_id = ids[id(node)]
            for child in ("left_child", "right_child"):
                if child in node:
                    ids[id(node[child])] = len(ids)
            row = _node_row(node, tree_id, node_id, ids, found)
            for key, value in row.items():
                columns[key].append(value)
            if "split_feature" in node:
                stack.extend((node["right_child"], node["left_child"]))
            else:
                for key, value in (("tree", tree_id), ("node", node_id), ("target", target_of[tree_id]),
                                   ("weight", float(node["leaf_value"]))):
                    leaves[key].append(value)
    return {
        "nodes_treeids": columns["tree"], "nodes_nodeids": columns["node"], "nodes_featureids": columns["feature"],
        "nodes_modes": columns["mode"], "nodes_truenodeids": columns["true"], "nodes_falsenodeids": columns["false"],
        "nodes_missing_value_tracks_true": columns["missing"],
        "nodes_values_as_tensor": numpy_helper.from_array(np.asarray(columns["value"], dtype=np.float64)),
        f"{prefix}_treeids": leaves["tree"], f"{prefix}_nodeids": leaves["node"], f"{prefix}_ids": leaves["target"],
        f"{prefix}_weights_as_tensor": numpy_helper.from_array(np.asarray(leaves["weight"], dtype=np.float64)),
    }


def _node_row(node: dict, tree_id: int, node_id: int, ids: dict, found) -> dict:
    from ..tree_ensemble import NotRewritten

    if "split_feature" not in node:
        return {"tree": tree_id, "node": node_id, "feature": 0, "mode": b"LEAF", "value": 0.0,
                "true": 0, "false": 0, "missing": 0}
    feature = int(node["split_feature"])
    row = {"tree": tree_id, "node": node_id, "feature": feature, "true": ids[id(node["left_child"])],
           "false": ids[id(node["right_child"])]}
    if node["decision_type"] == "==":
        found.members[tree_id, node_id] = (feature, tuple(sorted(int(c) for c in str(node["threshold"]).split("||") if c)))
        return {**row, "mode": b"BRANCH_EQ", "value": 0.0, "missing": 0}
    if node["decision_type"] != "<=" or node["missing_type"] not in ("NaN", "None"):
        raise NotRewritten(f"LightGBM split {node['decision_type']!r} with missing values as {node['missing_type']!r} "
                           "is not rewritten")
    threshold = float(node["threshold"])
    # NaN: where default_left says when LightGBM tracks missing values; else read as 0.
    missing = bool(node["default_left"]) if node["missing_type"] == "NaN" else 0.0 <= threshold
    return {**row, "mode": b"BRANCH_LEQ", "value": threshold, "missing": int(missing)}


def truncate_categories(onx, features: list[int], width: int) -> None:
    """Write, in front of the trees (which take ``width`` columns), what LightGBM does to a
    categorical value first: cut it to an integer toward zero (so -0.5 is category 0 and 2.7
    category 2). Other columns pass as they are; NaN stays NaN."""
    from onnx import TensorProto, helper

    from ..tree_ensemble import LEGACY, ML, element_types

    trees = [n for n in onx.graph.node if n.domain == ML and n.op_type in LEGACY]
    if len(trees) != 1:
        raise ValueError("expected one tree ensemble")
    tree = trees[0]
    source = tree.input[0]
    real = np.float64 if element_types(onx).get(source) == TensorProto.DOUBLE else np.float32
    mask = np.zeros((1, width), dtype=bool)
    mask[0, features] = True
    prefix = "lightgbm_categories"
    constants = [numpy_helper.from_array(mask, f"{prefix}_mask"), numpy_helper.from_array(np.zeros(1, real), f"{prefix}_zero")]
    nodes = [
        helper.make_node("Less", [source, f"{prefix}_zero"], [f"{prefix}_negative"], name=f"{prefix}_negative"),
        helper.make_node("Ceil", [source], [f"{prefix}_ceil"], name=f"{prefix}_ceil"),
        helper.make_node("Floor", [source], [f"{prefix}_floor"], name=f"{prefix}_floor"),
        helper.make_node("Where", [f"{prefix}_negative", f"{prefix}_ceil", f"{prefix}_floor"], [f"{prefix}_whole"],
                         name=f"{prefix}_whole"),
        helper.make_node("Where", [f"{prefix}_mask", f"{prefix}_whole", source], [f"{prefix}_input"], name=f"{prefix}_input"),
    ]
    tree.input[0] = f"{prefix}_input"
    position = list(onx.graph.node).index(tree)
    for offset, node in enumerate(nodes):
        onx.graph.node.insert(position + offset, node)
    onx.graph.initializer.extend(constants)

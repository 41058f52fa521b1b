"""LightGBM models (LGBMClassifier, LGBMRegressor, and native boosters wrapped by
convert.third_party).

LightGBM compares float64 inputs with float64 thresholds and sums float64 leaf values; its
initial score is folded into the first tree's leaves. onnxmltools numbers each tree's nodes as
it walks them: the root 0, then a node's two children before their subtrees."""

from __future__ import annotations


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
    from . import ExactTrees

    booster = lightgbm_booster_of(estimator)
    if booster is None:
        return None
    found = ExactTrees("LightGBM")
    for key, (mode, feature, value) in nodes_by_id(booster).items():
        if mode == "LEAF":
            found.leaves[key] = value
        elif mode == "BRANCH_LEQ":
            found.splits[key] = (feature, value)
    return found

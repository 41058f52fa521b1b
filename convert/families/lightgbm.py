"""LightGBM models: LGBMClassifier, LGBMRegressor, and native Boosters (.txt files, pickles)
wrapped as estimators (LightGBMBoosterClassifier / LightGBMBoosterRegressor) so that one code
path converts every model; onnxmltools' converter, registered with skl2onnx here, writes their
trees.

LightGBM compares float64 inputs with float64 thresholds and sums float64 leaf values; its
initial score is folded into the first tree's leaves. onnxmltools numbers each tree's nodes as
it walks them: the root 0, then a node's two children before their subtrees.

A categorical split sends a set of categories left. LightGBM first cuts the value to an integer
toward zero and sends NaN and negative numbers right (``truncate_categories`` writes the cut in
front of the trees); trained on pandas ``category`` columns, its Python package first turns
each value into its code (``categories``)."""

from __future__ import annotations

from functools import cache, cached_property
from pathlib import Path

import numpy as np
from onnx import ModelProto, helper, numpy_helper
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from ...runtime.text import first_line
from ..errors import LoadError, UnsupportedModel
from ..tree_ensemble import LEGACY
from .base import ExactTrees, compares_in_float32, register_converter  # noqa: F401  the default compares_in_float32
from .categories import Categories

NAME = "LightGBM"
SUFFIXES = (".txt", ".lgb", ".lgbm")  # Booster.save_model's text format
SKOPS_TYPES = ("lightgbm.",)
CLASSIFIER_OBJECTIVES = ("binary", "multiclass")
# LightGBM's aliases resolve to these names in a fitted booster's "objective" parameter.
REGRESSOR_OBJECTIVES = ("regression", "regression_l1", "huber", "quantile", "poisson", "gamma", "tweedie")
# LightGBM reads any value within this distance of 0 as 0 (kZeroThreshold, a float32 1e-35).
LIGHTGBM_ZERO = float(np.float32(1e-35))


def owns(estimator) -> bool:
    return lightgbm_booster_of(estimator) is not None


def load_file(path: Path):
    try:
        import lightgbm
    except (ImportError, OSError) as err:
        raise LoadError(f"model file {path}: a LightGBM model needs lightgbm at build time ({first_line(err)})") from err
    from .. import native_files

    native_files.check("lightgbm", path)
    try:
        booster = lightgbm.Booster(model_file=str(path))
    except lightgbm.basic.LightGBMError as err:
        raise LoadError(
            f"model file {path}: not a readable LightGBM model ({first_line(err)}); "
            "expected the text format of Booster.save_model"
        ) from err
    return lightgbm_booster_estimator(booster)


def wrap(obj):
    return lightgbm_booster_estimator(obj) if is_lightgbm_booster(obj) else None


@cache  # once per process
def register() -> None:
    try:
        from lightgbm import LGBMClassifier, LGBMRegressor
    except (ImportError, OSError):  # OSError: lib_lightgbm.so without libgomp
        return
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm

    register_converter(LGBMClassifier, LGBMRegressor, "LightGbm", convert_lightgbm)
    register_converter(LightGBMBoosterClassifier, LightGBMBoosterRegressor, "LightGbmBooster", convert_lightgbm)


def prepare(model):
    return model


# --- native boosters as estimators -----------------------------------------------------------


class _LightGBMBooster(BaseEstimator):
    """A native lightgbm.Booster (from a .txt model file or a pickle) as a fitted estimator.

    onnxmltools' converter reads ``booster_``, ``classes_`` and ``boosting_type``; the
    converter's parity checks call predict / predict_proba, which are LightGBM's own."""

    def __init__(self, booster=None):
        self.booster = booster

    @property
    def booster_(self):
        return self.booster

    @property
    def boosting_type(self) -> str:
        return "rf" if self.booster.params.get("boosting") in ("rf", "random_forest") else "gbdt"

    @property
    def n_features_in_(self) -> int:
        return self.booster.num_feature()

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The names the booster was trained with; none when LightGBM made them up (Column_0, ...)."""
        names = self.booster.feature_name()
        if names == [f"Column_{i}" for i in range(len(names))]:
            raise AttributeError("feature_names_in_")
        return np.asarray(names, dtype=object)

    def __sklearn_is_fitted__(self) -> bool:
        return self.booster is not None

    def fit(self, X, y=None):
        raise NotImplementedError("a wrapped LightGBM booster is already trained")

    def _raw(self, X):
        return self.booster.predict(np.asarray(X, dtype=np.float64))


class LightGBMBoosterClassifier(ClassifierMixin, _LightGBMBooster):
    @cached_property
    def classes_(self) -> np.ndarray:
        return np.arange(max(2, _num_class(self.booster)))

    def predict_proba(self, X) -> np.ndarray:
        raw = self._raw(X)
        return np.column_stack([1 - raw, raw]) if raw.ndim == 1 else raw

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class LightGBMBoosterRegressor(RegressorMixin, _LightGBMBooster):
    def predict(self, X) -> np.ndarray:
        return self._raw(X)


def is_lightgbm_booster(obj) -> bool:
    return type(obj).__name__ == "Booster" and type(obj).__module__.startswith("lightgbm")


def lightgbm_booster_estimator(booster):
    """A Booster wrapped as the classifier or regressor its objective says it is."""
    objective = lightgbm_objective(booster)
    if objective in CLASSIFIER_OBJECTIVES:
        return LightGBMBoosterClassifier(booster)
    if objective in REGRESSOR_OBJECTIVES:
        return LightGBMBoosterRegressor(booster)
    raise UnsupportedModel(
        f"LightGBM objective {objective!r} is not supported; supported: "
        f"{', '.join(CLASSIFIER_OBJECTIVES + REGRESSOR_OBJECTIVES)}"
    )


def lightgbm_objective(booster) -> str:
    """The objective's canonical name ("binary", "multiclass", "regression", ...)."""
    objective = booster.dump_model(num_iteration=1).get("objective", "")
    return str(objective).split(" ", 1)[0]


def lightgbm_booster_of(estimator):
    """The Booster of a fitted LGBMClassifier/LGBMRegressor or of a wrapped one, else None."""
    if isinstance(estimator, _LightGBMBooster):
        return estimator.booster
    if type(estimator).__module__.startswith("lightgbm") and hasattr(estimator, "booster_"):
        return estimator.booster_
    return None


def _num_class(booster) -> int:
    return int(booster.dump_model(num_iteration=1).get("num_class", 1))


# --- refusals --------------------------------------------------------------------------------


def check(estimator, preceding: list) -> None:
    """Refuse, before converting, what LightGBM does that ONNX trees cannot, saying what to change."""
    booster = lightgbm_booster_of(estimator)
    objective = getattr(estimator, "objective", None)
    if callable(objective):
        raise UnsupportedModel("LightGBM model with a custom objective function has no ONNX form")
    name = lightgbm_objective(booster)
    if name not in CLASSIFIER_OBJECTIVES + REGRESSOR_OBJECTIVES:
        raise UnsupportedModel(
            f"LightGBM objective {name!r} has no faithful ONNX conversion; supported: "
            f"{', '.join(CLASSIFIER_OBJECTIVES + REGRESSOR_OBJECTIVES)}"
        )
    if "rf" in (booster.params.get("boosting"), booster.params.get("boosting_type"), getattr(estimator, "boosting_type", None)):
        raise UnsupportedModel(
            "LightGBM boosting='rf': onnxmltools' converter does not average its trees as LightGBM does "
            "(the predictions differ); use boosting='gbdt', or scikit-learn's RandomForest"
        )
    if _truthy(booster.params.get("zero_as_missing")):
        raise UnsupportedModel(
            "LightGBM with zero_as_missing=True reads 0 (anything within 1e-35 of it) as missing, "
            "which ONNX trees cannot; retrain with zero_as_missing=False (the default) and NaN for missing values"
        )
    if _truthy(booster.params.get("linear_tree")):
        raise UnsupportedModel("LightGBM with linear_tree=True (linear models in the leaves) has no ONNX converter")


def _truthy(value) -> bool:
    return str(value).lower() in ("true", "1")


# --- thresholds and categories as LightGBM records them ---------------------------------------


def lightgbm_nodes(booster):
    """Every split node of a LightGBM booster, as dump_model() describes it."""
    for tree in booster.dump_model()["tree_info"]:
        yield from _splits(tree["tree_structure"])


def thresholds(estimator):
    splits = [(n["split_feature"], n["threshold"]) for n in lightgbm_nodes(lightgbm_booster_of(estimator))
              if n["decision_type"] == "<="]
    features = np.asarray([f for f, _ in splits], dtype=np.int64)
    return [(features, np.asarray([float(t) for _, t in splits], dtype=np.float64))]


def lightgbm_categories(booster) -> dict[int, set[int]]:
    """Features LightGBM splits on as categories, with the category codes its splits name."""
    found: dict[int, set[int]] = {}
    for node in lightgbm_nodes(booster):
        if node["decision_type"] == "==":
            codes = {int(c) for c in str(node["threshold"]).split("||") if c}
            found.setdefault(int(node["split_feature"]), set()).update(codes)
    return found


def numeric_categories(estimator) -> dict[int, np.ndarray]:
    """LightGBM on raw numbers: the categories its splits name, as it records no others."""
    booster = lightgbm_booster_of(estimator)
    return {j: np.asarray(sorted(codes), dtype=np.float64) for j, codes in lightgbm_categories(booster).items()}



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
            threshold = float(node["threshold"]) if leq else None
            nodes[tree_id, node_id] = ("BRANCH_LEQ" if leq else "OTHER", int(node["split_feature"]), threshold)
            stack.extend(((node["right_child"], right), (node["left_child"], left)))
    return nodes


def exact_trees(estimator):
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
    booster = lightgbm_booster_of(estimator)
    known = getattr(booster, "pandas_categorical", None) if booster is not None else None
    if not known:
        return None
    infos = booster.dump_model()["feature_infos"]
    columns = [j for j, info in enumerate(infos.values()) if isinstance(info, dict) and info.get("values")]
    if len(columns) != len(known):
        raise UnsupportedModel(f"LightGBM records categories for {len(known)} pandas columns but splits "
                               f"{len(columns)} columns as categories; retrain on integer codes")
    return Categories({j: np.asarray(values) for j, values in zip(columns, known, strict=True)}, list(range(len(infos))), pandas=True)


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
    target_of = dict(zip(converted[f"{prefix}_treeids"], converted[f"{prefix}_ids"], strict=True))
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

    from ..tree_ensemble import ML, element_types

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


# --- repairs to the converted graph ----------------------------------------------------------


def fix_graph(onx: ModelProto, model) -> None:
    """The categorical cut LightGBM applies first (truncate_categories), where it splits on categories."""
    from ..steps import final_and_preceding

    booster = lightgbm_booster_of(final_and_preceding(model)[0])
    categorical = categorical_features(booster) if booster is not None else []
    if categorical:
        truncate_categories(onx, categorical, booster.num_feature())


def fix_thresholds(onx: ModelProto, model) -> bool:
    """Write LightGBM's own thresholds, as the largest float32 not above each, into the trees.

    onnxmltools reparses LightGBM's model text and loses some thresholds on the way: the
    +-1e-35 that LightGBM puts between negative values and zero become 0. It numbers each
    tree's nodes as it walks them (root 0, then a node's two children before their subtrees);
    the same walk over dump_model() finds each graph node's threshold, which is rewritten only
    if every node matches (split feature and kind). The parity gate proves the result. Every
    LightGBM model's trees are fed their input as LightGBM's predictor reads it (_zero_near_zero).
    Returns True: the float32 floor of graph_fixes.round_thresholds_down is never LightGBM's."""
    _own_thresholds(onx, model)
    return True


def _own_thresholds(onx: ModelProto, model) -> bool:
    from ..steps import final_and_preceding

    final, _ = final_and_preceding(model)
    booster = lightgbm_booster_of(final)
    trees = [n for n in onx.graph.node if n.op_type in LEGACY]
    if booster is None or len(trees) != 1:
        return False
    _zero_near_zero(onx, trees[0])
    attrs = {a.name: a for a in trees[0].attribute}
    if "nodes_values" not in attrs:
        return False
    walked = nodes_by_id(booster)
    modes = [m.decode() for m in attrs["nodes_modes"].strings]
    keys = list(zip(attrs["nodes_treeids"].ints, attrs["nodes_nodeids"].ints, strict=True))
    features = list(attrs["nodes_featureids"].ints)
    found = [walked.get(key) for key in keys]
    if len(walked) != len(keys) or any(
        node is None or node[0] != mode or (mode != "LEAF" and node[1] != feature)
        for node, mode, feature in zip(found, modes, features, strict=True)
    ):
        return False
    values = attrs["nodes_values"].floats
    for i, (mode, _, threshold) in enumerate(found):
        if mode == "BRANCH_LEQ":
            values[i] = _floor32(threshold)
    return True


def _zero_near_zero(onx: ModelProto, tree) -> None:
    """Feed ``tree`` Where(|x| <= 1e-35, 0, x), as LightGBM's predictor reads its input."""
    from onnx import TensorProto

    from ..tree_ensemble import element_types

    graph = onx.graph
    source = tree.input[0]
    dtype = np.float64 if element_types(onx).get(source) == TensorProto.DOUBLE else np.float32
    names = {k: f"{source}_lightgbm_{k}" for k in ("abs", "limit", "near", "zero", "input")}
    graph.initializer.extend([
        numpy_helper.from_array(np.asarray(LIGHTGBM_ZERO, dtype=dtype), names["limit"]),
        numpy_helper.from_array(np.asarray(0.0, dtype=dtype), names["zero"]),
    ])
    index = list(graph.node).index(tree)
    for offset, node in enumerate([
        helper.make_node("Abs", [source], [names["abs"]], name=names["abs"]),
        helper.make_node("LessOrEqual", [names["abs"], names["limit"]], [names["near"]], name=names["near"]),
        helper.make_node("Where", [names["near"], names["zero"], source], [names["input"]], name=names["input"]),
    ]):
        graph.node.insert(index + offset, node)
    tree.input[0] = names["input"]


def _floor32(value: float) -> float:
    nearest = np.float32(value)
    return float(np.nextafter(nearest, np.float32(-np.inf)) if float(nearest) > value else nearest)

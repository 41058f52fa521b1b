"""Rewrite the converters' tree ensembles as ai.onnx.ml opset 5 TreeEnsemble.

skl2onnx and onnxmltools emit TreeEnsembleClassifier / TreeEnsembleRegressor (ai.onnx.ml 1
or 3): every node, leaf or not, carries tree id, node id, feature, a mode string, threshold,
both children, hit rate and missing-value flag, and every leaf weight repeats its tree and node
id. TreeEnsemble (opset 5) keeps interior nodes and leaves apart, children by index, modes as
one byte and thresholds and weights as raw tensors: a third of the bytes, and onnxruntime
(1.24) creates the session faster and holds less memory.

The rewrite keeps the arithmetic: same thresholds (float32 as stored, after
graph_fixes.round_thresholds_down), same comparisons and missing-value directions, same leaf
weights summed in the same tree order. What TreeEnsemble does not do is rebuilt with standard
operators: base_values become an Add, a classifier's probabilities and label are computed from
the scores as onnxruntime's TreeEnsembleClassifier computes them, under the same output names.
Trees whose input is float64 belong to a family that compares in float64 (convert/families):
they are written in float64 with that family's own thresholds, leaf values and baseline, and the
scores are summed and linked in float64.
It is only ever served after passing the same parity gate as the original (convert/build.py).

Rewritten: every tree ensemble whose leaves carry one weight each (gradient boosting, XGBoost,
HistGradientBoosting, LightGBM, binary forests and trees, single-target regressors). Refused
(NotRewritten, the original form is kept): leaves carrying several weights (multiclass forests,
multi-target regressors: TreeEnsemble would need one copy of every tree per class,
`copy_trees=True` builds it, measured slower to predict), float64 tree inputs without their
family's numbers, and any mode, post-transform or base-value layout whose meaning is not pinned
down here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from onnx import ModelProto, TensorProto, helper, numpy_helper

ML = "ai.onnx.ml"
FORM = "TreeEnsemble-opset5"
LEGACY = ("TreeEnsembleClassifier", "TreeEnsembleRegressor")
MODES = {b"BRANCH_LEQ": 0, b"BRANCH_LT": 1, b"BRANCH_GTE": 2, b"BRANCH_GT": 3, b"BRANCH_EQ": 4, b"BRANCH_NEQ": 5}
MEMBER = 6  # BRANCH_MEMBER: true when the value is one of the node's membership values
AGGREGATES = {b"AVERAGE": 0, b"SUM": 1}


class NotRewritten(Exception):
    """The model keeps its original form; the message says why."""


def tree_form(onx: ModelProto) -> str | None:
    """How the model's trees are written: "TreeEnsemble-opset5", "TreeEnsembleClassifier-opset1", ... or None."""
    ml = max((d.version for d in onx.opset_import if d.domain == ML), default=None)
    for node in onx.graph.node:
        if node.domain == ML and node.op_type == "TreeEnsemble":
            return FORM
        if node.domain == ML and node.op_type in LEGACY:
            return f"{node.op_type}-opset{ml}"
    return None


def rewrite(onx: ModelProto, exact=None, copy_trees: bool = False) -> ModelProto:
    """A copy of ``onx`` with each TreeEnsembleClassifier/Regressor replaced by TreeEnsemble
    and standard operators producing the same outputs; raises NotRewritten otherwise.

    Trees whose input is float32 keep the converter's float32 numbers. Trees whose input is
    float64 are written in float64 with ``exact``'s numbers (convert.families.ExactTrees), the
    ones the original compares and sums with; without them they are not rewritten."""
    graph = onx.graph
    positions = [i for i, n in enumerate(graph.node) if n.domain == ML and n.op_type in LEGACY]
    if not positions:
        raise NotRewritten("no TreeEnsembleClassifier or TreeEnsembleRegressor in the model")
    dtypes = element_types(onx)
    out = copy.deepcopy(onx)
    for position in reversed(positions):
        node = out.graph.node[position]
        element = dtypes.get(node.input[0])
        if element == TensorProto.DOUBLE:
            if exact is None:
                raise NotRewritten(
                    "the trees take float64 inputs and this model's family compares in float32; "
                    "its float32 trees are the exact form"
                )
            if len(positions) > 1:
                raise NotRewritten("several tree ensembles take float64 inputs; only one is rewritten in float64")
        elif element != TensorProto.FLOAT:
            raise NotRewritten("the trees' input is neither float32 nor float64")
        real = np.float64 if element == TensorProto.DOUBLE else np.float32
        if real is np.float64:
            _declare_double(out, node, dtypes)
        new_nodes, initializers = _replacement(node, dtypes, copy_trees, real, exact if real is np.float64 else None)
        del out.graph.node[position]
        for offset, new in enumerate(new_nodes):
            out.graph.node.insert(position + offset, new)
        out.graph.initializer.extend(initializers)
    _set_opsets(out)
    return out


# --- reading the legacy attributes --------------------------------------------------------


def _attributes(node) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _floats(attrs: dict, name: str) -> np.ndarray | None:
    """A float list attribute or its ``*_as_tensor`` double twin, as float64, or None."""
    if f"{name}_as_tensor" in attrs:
        return numpy_helper.to_array(attrs[f"{name}_as_tensor"]).astype(np.float64).ravel()
    if name in attrs:
        return np.asarray(attrs[name], dtype=np.float32).astype(np.float64)
    return None


class _Forest:
    """The legacy node and leaf-weight tuples as arrays, with each tree's nodes located."""

    def __init__(self, attrs: dict, classifier: bool):
        prefix = "class" if classifier else "target"
        self.tree = np.asarray(attrs["nodes_treeids"], dtype=np.int64)
        self.node = np.asarray(attrs["nodes_nodeids"], dtype=np.int64)
        self.feature = np.asarray(attrs["nodes_featureids"], dtype=np.int64)
        self.true = np.asarray(attrs["nodes_truenodeids"], dtype=np.int64)
        self.false = np.asarray(attrs["nodes_falsenodeids"], dtype=np.int64)
        self.split = _floats(attrs, "nodes_values")
        missing = attrs.get("nodes_missing_value_tracks_true")
        self.missing = np.asarray(missing if missing else np.zeros(len(self.tree)), dtype=np.int64)
        modes = np.asarray(attrs["nodes_modes"], dtype=object)
        self.is_leaf = modes == b"LEAF"
        unknown = set(modes[~self.is_leaf].tolist()) - set(MODES)
        if unknown:
            raise NotRewritten(f"node mode {sorted(unknown)[0].decode()} has no TreeEnsemble equivalent here")
        self.mode = np.array([MODES.get(m, 0) for m in modes.tolist()], dtype=np.uint8)
        self.members: dict[int, tuple[int, ...]] = {}  # node position -> categories of a BRANCH_MEMBER node
        self.w_tree = np.asarray(attrs[f"{prefix}_treeids"], dtype=np.int64)
        self.w_node = np.asarray(attrs[f"{prefix}_nodeids"], dtype=np.int64)
        self.w_target = np.asarray(attrs[f"{prefix}_ids"], dtype=np.int64)
        self.w_value = _floats(attrs, f"{prefix}_weights")
        n = len(self.tree)
        if self.split is None or any(len(a) != n for a in (self.node, self.feature, self.true, self.false, self.split, self.missing)):
            raise NotRewritten("the tree ensemble's node attributes have different lengths")
        if self.w_value is None or not len(self.w_value) == len(self.w_tree) == len(self.w_node) == len(self.w_target):
            raise NotRewritten("the tree ensemble's leaf weights are incomplete")

        # onnxruntime takes each run of nodes with one tree id as a tree, rooted at its first node.
        starts = np.flatnonzero(np.r_[True, self.tree[1:] != self.tree[:-1]]) if n else np.zeros(0, np.int64)
        if len(np.unique(self.tree[starts])) != len(starts):
            raise NotRewritten("a tree's nodes are not listed together")
        self.roots = starts
        self.block = np.cumsum(np.r_[True, self.tree[1:] != self.tree[:-1]]) - 1 if n else self.tree
        self._keys = self.tree * (int(self.node.max(initial=0)) + 1) + self.node
        self._order = np.argsort(self._keys, kind="stable")
        if np.any(np.diff(self._keys[self._order]) == 0):
            raise NotRewritten("a node id repeats within a tree")

        inner = ~self.is_leaf
        self.true_pos = self._locate(self.tree[inner], self.true[inner], "child")
        self.false_pos = self._locate(self.tree[inner], self.false[inner], "child")
        weight_pos = self._locate(self.w_tree, self.w_node, "leaf weight")
        if not self.is_leaf[weight_pos].all():
            raise NotRewritten("a leaf weight is attached to an interior node")
        order = np.argsort(weight_pos, kind="stable")
        self.w_pos, self.w_target, self.w_value = weight_pos[order], self.w_target[order], self.w_value[order]
        self.weights_per_leaf = np.bincount(self.w_pos, minlength=n)[self.is_leaf]
        if np.any(self.weights_per_leaf == 0):
            raise NotRewritten("a leaf has no weight")

    def use_exact(self, exact) -> None:
        """Take ``exact``'s float64 thresholds and leaf values in place of the converter's
        float32 ones, node by node; every node must be found there, on the same feature, within
        a float32 step of what the converter wrote."""
        inner = np.flatnonzero(~self.is_leaf)
        self.use_members(exact)
        split = self.split.copy()
        for p in inner.tolist():
            key = (int(self.tree[p]), int(self.node[p]))
            if key in exact.members:
                continue
            found = exact.splits.get(key)
            if found is None or self.mode[p] != MODES[b"BRANCH_LEQ"] or found[0] != self.feature[p]:
                raise NotRewritten(f"{exact.family} split ({self.tree[p]}, {self.node[p]}) has no float64 threshold here")
            if not _within_float32_step(self.split[p], found[1]):
                raise NotRewritten(f"{exact.family} split ({self.tree[p]}, {self.node[p]}) does not match its float64 threshold")
            split[p] = found[1]
        value = self.w_value.copy()
        if np.any(self.weights_per_leaf != 1):
            raise NotRewritten(f"{exact.family} leaves carry several weights each")
        for i, p in enumerate(self.w_pos.tolist()):
            found = exact.leaves.get((int(self.tree[p]), int(self.node[p])))
            if found is None or not _within_float32_step(self.w_value[i], found):
                raise NotRewritten(f"{exact.family} leaf ({self.tree[p]}, {self.node[p]}) does not match its float64 value")
            value[i] = found
        self.split, self.w_value = split, value

    def use_members(self, exact) -> None:
        """Make each node ``exact`` lists with a set of categories a BRANCH_MEMBER node of that set."""
        for p in np.flatnonzero(~self.is_leaf).tolist():
            found = exact.members.get((int(self.tree[p]), int(self.node[p])))
            if found is None:
                continue
            if found[0] != self.feature[p]:
                raise NotRewritten(f"{exact.family} split ({self.tree[p]}, {self.node[p]}) has its categories on another feature")
            if found[1]:
                self.mode[p], self.members[p] = MEMBER, found[1]
            else:  # onnxruntime cannot read an empty set; no number is below -inf
                self.mode[p], self.split[p] = MODES[b"BRANCH_LT"], -np.inf

    def _locate(self, trees: np.ndarray, nodes: np.ndarray, what: str) -> np.ndarray:
        keys = trees * (int(self.node.max(initial=0)) + 1) + nodes
        found = np.searchsorted(self._keys[self._order], keys)
        found = np.minimum(found, len(self._order) - 1)
        if len(keys) and not np.array_equal(self._keys[self._order][found], keys):
            raise NotRewritten(f"a {what} refers to a node that does not exist")
        return self._order[found]

    def targets(self) -> np.ndarray:
        return np.unique(self.w_target)


def _within_float32_step(stored: float, exact: float) -> bool:
    """Whether the converter's float32 ``stored`` is ``exact`` rounded (either way) to float32."""
    if float(stored) == exact or not np.isfinite(exact):
        return float(stored) == exact
    return abs(float(stored) - exact) <= float(np.spacing(np.float32(abs(exact))))


# --- writing TreeEnsemble -------------------------------------------------------------------


def _tree_ensemble(forest: _Forest, n_targets: int, aggregate: int, copy_trees: bool, name: str, inputs, outputs, real=np.float32):
    """One TreeEnsemble node; each tree copied per target when leaves carry several weights."""
    copies = _copies(forest, aggregate, copy_trees)
    a = _node_arrays(forest, copies)
    inner = ~forest.is_leaf

    fields = dict(
        n_targets=n_targets,
        aggregate_function=aggregate,
        post_transform=0,
        tree_roots=a["roots"].tolist(),
        nodes_featureids=a["feature"].tolist(),
        nodes_splits=numpy_helper.from_array(a["split"].astype(real), "nodes_splits"),
        nodes_modes=numpy_helper.from_array(a["mode"].astype(np.uint8), "nodes_modes"),
        nodes_truenodeids=a["true"].tolist(),
        nodes_falsenodeids=a["false"].tolist(),
        nodes_trueleafs=a["true_leaf"].tolist(),
        nodes_falseleafs=a["false_leaf"].tolist(),
        leaf_targetids=a["targets"].tolist(),
        leaf_weights=numpy_helper.from_array(a["weights"].astype(real), "leaf_weights"),
    )
    if a["missing"].any():
        fields["nodes_missing_value_tracks_true"] = a["missing"].tolist()
    if forest.members:
        sets = [forest.members[p] for p in np.flatnonzero(inner).tolist() if p in forest.members] * len(copies)
        values = [v for i, members in enumerate(sets) for v in ([np.nan] if i else []) + list(members)]
        fields["membership_values"] = numpy_helper.from_array(np.asarray(values, dtype=real), "membership_values")
    return helper.make_node("TreeEnsemble", list(inputs), list(outputs), name=name, domain=ML, **fields)


def _node_arrays(forest: _Forest, copies: list[tuple]) -> dict[str, np.ndarray]:
    """TreeEnsemble's node and leaf arrays for ``copies`` of the trees, interior nodes and leaves
    numbered apart, single-leaf trees as stumps."""
    inner = ~forest.is_leaf
    n_inner, n_leaves = int(inner.sum()), int(forest.is_leaf.sum())
    inner_index = np.cumsum(inner) - 1  # position -> index among interior nodes
    leaf_index = np.cumsum(forest.is_leaf) - 1  # position -> index among leaves
    true_leaf = forest.is_leaf[forest.true_pos].astype(np.int64)
    false_leaf = forest.is_leaf[forest.false_pos].astype(np.int64)
    true_id = np.where(true_leaf == 1, leaf_index[forest.true_pos], inner_index[forest.true_pos])
    false_id = np.where(false_leaf == 1, leaf_index[forest.false_pos], inner_index[forest.false_pos])

    # A tree that is a single leaf becomes a stump whose two branches reach equal leaves:
    # the spec's one-node form is read differently by onnxruntime and the reference.
    stumps = forest.roots[forest.is_leaf[forest.roots]]
    n_stumps = len(stumps)
    stump_leaf = leaf_index[stumps]

    keys = ("feature", "split", "mode", "true", "false", "true_leaf", "false_leaf", "missing", "roots", "targets", "weights")
    parts = {k: [] for k in keys}
    for c, (_, targets, weights) in enumerate(copies):
        node_base = c * (n_inner + n_stumps)
        leaf_base = c * (n_leaves + 2 * n_stumps)
        parts["feature"] += [forest.feature[inner], np.zeros(n_stumps, np.int64)]
        parts["split"] += [forest.split[inner], np.zeros(n_stumps)]
        parts["mode"] += [forest.mode[inner], np.zeros(n_stumps, np.uint8)]
        stump_leaves = leaf_base + n_leaves + 2 * np.arange(n_stumps)
        parts["true"] += [np.where(true_leaf == 1, leaf_base, node_base) + true_id, stump_leaves]
        parts["false"] += [np.where(false_leaf == 1, leaf_base, node_base) + false_id, stump_leaves + 1]
        parts["true_leaf"] += [true_leaf, np.ones(n_stumps, np.int64)]
        parts["false_leaf"] += [false_leaf, np.ones(n_stumps, np.int64)]
        parts["missing"] += [forest.missing[inner], np.zeros(n_stumps, np.int64)]
        root_ids = np.where(
            forest.is_leaf[forest.roots],
            node_base + n_inner + np.searchsorted(stumps, forest.roots),
            node_base + inner_index[forest.roots],
        )
        parts["roots"].append(root_ids)
        parts["targets"] += [targets, np.repeat(targets[stump_leaf], 2)]
        parts["weights"] += [weights, np.repeat(weights[stump_leaf], 2)]
    a = {k: np.concatenate(v) for k, v in parts.items()}
    return a


def _copies(forest: _Forest, aggregate: int, copy_trees: bool) -> list[tuple]:
    """(target, leaf targets, leaf weights) per copy of the trees: one copy when each leaf has one
    weight, else one per target."""
    if np.all(forest.weights_per_leaf == 1):
        return [(None, forest.w_target, forest.w_value)]
    targets = forest.targets()
    if not copy_trees:
        raise NotRewritten(
            f"leaves carry {int(forest.weights_per_leaf.max())} weights each (one per class or "
            "target); TreeEnsemble would repeat every tree per class, more nodes to walk per row"
        )
    n_leaves = int(forest.is_leaf.sum())
    if aggregate != AGGREGATES[b"SUM"] or any(np.sum(forest.w_target == t) != n_leaves for t in targets):
        raise NotRewritten("leaves carry weights for different targets")
    return [(t, forest.w_target[forest.w_target == t], forest.w_value[forest.w_target == t]) for t in targets]


# --- the replacement subgraphs --------------------------------------------------------------


class _Subgraph:
    """The nodes and constants that replace one legacy node, named after it."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.nodes: list = []
        self.inits: list = []

    def constant(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(value, f"{self.prefix}_const_{name}"))
        return f"{self.prefix}_const_{name}"

    def add(self, op: str, inputs: list[str], output: str, **kwargs) -> str:
        name = f"{self.prefix}_{output.rsplit('_', 1)[-1]}_{len(self.nodes)}"
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **kwargs))
        return output


@dataclass
class _Trees:
    """What every replacement of one legacy node writes its TreeEnsemble from."""

    node: object
    forest: _Forest
    aggregate: int
    base: np.ndarray | None
    copy_trees: bool
    real: type

    def scores(self, graph: _Subgraph, n_targets: int, output: str) -> str:
        """The trees' sums into ``output``, plus base_values when there are any (as onnxruntime adds them)."""
        has_base = self.base is not None and np.any(self.base)
        sums = f"{graph.prefix}_te_scores" if has_base else output
        graph.nodes.append(_tree_ensemble(self.forest, n_targets, self.aggregate, self.copy_trees, f"{graph.prefix}_te",
                                          self.node.input, [sums], self.real))
        if not has_base:
            return output
        return graph.add("Add", [sums, graph.constant("base", self.base.astype(self.real).reshape(1, -1))], output)


def _replacement(node, dtypes: dict, copy_trees: bool, real=np.float32, exact=None):
    """The nodes and constants replacing legacy ``node``, computing in ``real`` (float32 or
    float64) with the converter's numbers, or ``exact``'s where given."""
    attrs = _attributes(node)
    classifier = node.op_type == "TreeEnsembleClassifier"
    own = exact is not None and exact.nodes is not None  # the model's own trees, in the converter's layout
    forest = _Forest(exact.nodes(attrs, classifier) if own else attrs, classifier)
    aggregate = AGGREGATES.get(attrs.get("aggregate_function", b"SUM"))
    if aggregate is None:
        raise NotRewritten(f"aggregate_function {attrs['aggregate_function'].decode()} is not rewritten")
    base = _floats(attrs, "base_values")
    if exact is not None:
        forest.use_members(exact) if own else forest.use_exact(exact)
        base = _exact_base(base, exact)
    graph = _Subgraph(node.name or node.output[0])
    trees = _Trees(node, forest, aggregate, base, copy_trees, real)
    element = TensorProto.DOUBLE if real is np.float64 else TensorProto.FLOAT
    _expect_type(dtypes, [node.output[1 if classifier else 0]], element)
    (_classifier if classifier else _regressor)(graph, trees, attrs)
    return graph.nodes, graph.inits


def _regressor(graph: _Subgraph, trees: _Trees, attrs: dict) -> None:
    n_targets = int(attrs.get("n_targets", 1))
    post = attrs.get("post_transform", b"NONE")
    if post != b"NONE":
        raise NotRewritten(f"regressor post_transform {post.decode()} is not rewritten")
    if trees.base is not None and len(trees.base) not in (0, n_targets):
        raise NotRewritten("base_values do not match the number of targets")
    trees.scores(graph, n_targets, trees.node.output[0])


def _classifier(graph: _Subgraph, trees: _Trees, attrs: dict) -> None:
    if trees.aggregate != AGGREGATES[b"SUM"]:
        raise NotRewritten("classifier aggregate_function other than SUM is not rewritten")
    labels_int = attrs.get("classlabels_int64s")
    labels_str = attrs.get("classlabels_strings")
    labels = np.asarray(labels_int, dtype=np.int64) if labels_int else np.asarray(labels_str, dtype=object)
    trees.base = np.zeros(0) if trees.base is None else trees.base
    post = attrs.get("post_transform", b"NONE")
    if len(labels) == 2 and len(trees.forest.targets()) == 1:
        index = _binary(graph, trees, post)
    elif len(labels) > 2:
        index = _multiclass(graph, trees, post, len(labels))
    else:
        raise NotRewritten("binary classifier scoring both classes is not rewritten")
    graph.add("Gather", [graph.constant("classes", labels), index], trees.node.output[0], axis=0)


def _binary(graph: _Subgraph, trees: _Trees, post: bytes) -> str:
    """One score s for the second class, read as onnxruntime's binary case reads it: LOGISTIC ->
    [sigmoid(-s), sigmoid(s)], label s > 0; NONE (weights >= 0) -> [1 - s, s], label s > 0.5.
    [-s, s] is s * [-1, 1], exact; ArgMax keeps the first of equal values, as onnxruntime's
    strict comparison does. The label's index."""
    real, proba_out, prefix = trees.real, trees.node.output[1], graph.prefix
    if trees.forest.targets()[0] != 0 or len(trees.base) > 1:
        raise NotRewritten("binary classifier with this score layout is not rewritten")
    s = trees.scores(graph, 1, f"{prefix}_s")
    signed = graph.add("Mul", [s, graph.constant("signs", np.array([[-1, 1]], real))], f"{prefix}_signed")
    if post == b"LOGISTIC":
        graph.add("Sigmoid", [signed], proba_out)
        return graph.add("ArgMax", [signed], f"{prefix}_argmax", axis=1, keepdims=0)
    if post == b"NONE" and np.all(trees.forest.w_value >= 0):
        graph.add("Add", [signed, graph.constant("complement", np.array([[1, 0]], real))], proba_out)
        return graph.add("ArgMax", [proba_out], f"{prefix}_argmax", axis=1, keepdims=0)
    raise NotRewritten(f"binary classifier with post_transform {post.decode()} and these weights is not rewritten")


def _multiclass(graph: _Subgraph, trees: _Trees, post: bytes, n_classes: int) -> str:
    """Softmax, sigmoid or raw scores per class; the label's index, the ArgMax of the scores as
    onnxruntime takes it."""
    if len(trees.base) not in (0, n_classes):
        raise NotRewritten("base_values do not match the number of classes")
    if not np.any(trees.base) and not _every_class_scored(trees.forest, n_classes):
        raise NotRewritten("some class gets no score from some rows' leaves")
    transforms = {b"SOFTMAX": "Softmax", b"LOGISTIC": "Sigmoid", b"NONE": None}
    if post not in transforms:
        raise NotRewritten(f"classifier post_transform {post.decode()} is not rewritten")
    proba_out = trees.node.output[1]
    raw = trees.scores(graph, n_classes, proba_out if transforms[post] is None else f"{graph.prefix}_s")
    if transforms[post] is not None:
        graph.add(transforms[post], [raw], proba_out, **({"axis": 1} if post == b"SOFTMAX" else {}))
    return graph.add("ArgMax", [raw], f"{graph.prefix}_argmax", axis=1, keepdims=0)


def _every_class_scored(forest: _Forest, n_classes: int) -> bool:
    """Each class has a tree all of whose leaves weigh it, so every row scores every class
    (onnxruntime's argmax skips classes no leaf scored)."""
    leaf_block = forest.block[forest.w_pos]
    per_block = np.bincount(forest.block[forest.is_leaf], minlength=len(forest.roots))
    for k in range(n_classes):
        hit = forest.w_target == k
        counts = np.bincount(leaf_block[hit], minlength=len(forest.roots))
        if not np.any((counts == per_block) & (per_block > 0)):
            return False
    return True


def _declare_double(onx: ModelProto, node, dtypes: dict) -> None:
    """Declare as float64 the float32 scores of ``node`` that are outputs of the graph and
    nothing else's input: the float64 trees compute them in float64."""
    consumed = {name for other in onx.graph.node for name in other.input}
    for info in onx.graph.output:
        if info.name in node.output[-1:] and info.name not in consumed and dtypes.get(info.name) == TensorProto.FLOAT:
            info.type.tensor_type.elem_type = TensorProto.DOUBLE
            dtypes[info.name] = TensorProto.DOUBLE


def _expect_type(dtypes: dict, names: list[str], element: int) -> None:
    for name in names:
        if dtypes.get(name, element) != element:
            raise NotRewritten(
                f"output {name!r} is declared {TensorProto.DataType.Name(dtypes[name])}, "
                f"not {TensorProto.DataType.Name(element)}"
            )


def _exact_base(stored: np.ndarray | None, exact) -> np.ndarray | None:
    """``exact``'s base values, checked against the converter's; without them, the converter's
    must be zero."""
    stored = np.zeros(0) if stored is None else stored
    if exact.base is None:
        if np.any(stored):
            raise NotRewritten(f"{exact.family} base values have no float64 counterpart")
        return stored
    if len(stored) and (len(stored) != len(exact.base) or not all(map(_within_float32_step, stored, exact.base))):
        raise NotRewritten(f"{exact.family} base values do not match the converter's")
    return exact.base


def element_types(onx: ModelProto) -> dict[str, int]:
    """Element type of every tensor the graph declares or a Cast produces, and of each tree
    ensemble's input (asked of onnxruntime when nothing declares it)."""
    types = {}
    for info in list(onx.graph.input) + list(onx.graph.value_info) + list(onx.graph.output):
        if info.type.HasField("tensor_type"):
            types[info.name] = info.type.tensor_type.elem_type
    for init in onx.graph.initializer:
        types[init.name] = init.data_type
    for node in onx.graph.node:
        if node.op_type == "Cast" and node.domain in ("", "ai.onnx"):
            types[node.output[0]] = next(a.i for a in node.attribute if a.name == "to")
    for node in onx.graph.node:
        if node.domain == ML and node.op_type in LEGACY and node.input[0] not in types:
            types[node.input[0]] = _computed_type(onx, node.input[0])
    return types


def _computed_type(onx: ModelProto, name: str) -> int:
    """The element type onnxruntime gives ``name``, from the graph cut just after it
    (onnx's shape inference knows no types for the older ai.onnx.ml operators)."""
    import onnxruntime as ort

    cut = ModelProto()
    cut.CopyFrom(onx)
    producers = [i for i, n in enumerate(cut.graph.node) if name in n.output]
    if not producers:
        return TensorProto.UNDEFINED
    del cut.graph.node[producers[0] + 1:]
    del cut.graph.output[:]
    cut.graph.output.add().name = name
    try:
        session = ort.InferenceSession(cut.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception:
        return TensorProto.UNDEFINED
    kinds = {"tensor(float)": TensorProto.FLOAT, "tensor(double)": TensorProto.DOUBLE}
    return kinds.get(session.get_outputs()[0].type, TensorProto.UNDEFINED)


def _set_opsets(onx: ModelProto) -> None:
    """Declare ai.onnx.ml 5; keep one entry per domain (the highest), the standard one as it was."""
    versions: dict[str, int] = {}
    for entry in onx.opset_import:
        versions[entry.domain] = max(versions.get(entry.domain, 0), entry.version)
    versions[ML] = 5
    versions[""] = max(versions.get("", 0), versions.pop("ai.onnx", 0), 9)
    del onx.opset_import[:]
    onx.opset_import.extend(helper.make_opsetid(domain, version) for domain, version in sorted(versions.items()))

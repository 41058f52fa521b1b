"""scikit-learn's HistGradientBoostingClassifier and HistGradientBoostingRegressor.

They compare float64 inputs with float64 thresholds (``num_threshold``) and add float64 leaf
values to a float64 baseline. skl2onnx numbers tree ``k`` of iteration ``i`` as
``i * n_trees_per_iteration + k`` when an iteration has several trees (multiclass), else ``i``,
and each node by its index in the predictor's node array.

With categorical features (``categorical_features``, by default every pandas ``category``
column), the estimator first passes its input through its own ColumnTransformer: an
OrdinalEncoder turns each categorical column's values into codes 0..k-1 (unknown and missing
values into NaN) and moves those columns in front of the numeric ones. Its trees then split on
those codes, sending the codes of a set one way. skl2onnx knows neither step: ``categories``
describes the encoding (convert/families/categories.py writes it in front of the trees), and
the sets become BRANCH_MEMBER nodes (convert/tree_ensemble.py), a missing code going where the
estimator sends missing values."""

from __future__ import annotations

import numpy as np

from .base import (  # noqa: F401  the defaults of the Family interface
    SKOPS_TYPES,
    SUFFIXES,
    ExactTrees,
    check,
    compares_in_float32,
    fix_graph,
    fix_thresholds,
    load_file,
    no_numeric_categories as numeric_categories,
    prepare,
    register,
    wrap,
)
from .categories import Categories, is_missing

NAME = "HistGradientBoosting"
NAMES = ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor")


def owns(estimator) -> bool:
    return _is_hist_gradient_boosting(estimator)


def thresholds(estimator):
    pairs = []
    encoding = categories(estimator)
    for predictors in getattr(estimator, "_predictors", []) or []:
        for predictor in predictors:
            nodes = predictor.nodes
            inner = (nodes["is_leaf"] == 0) & (nodes["is_categorical"] == 0)
            features = nodes["feature_idx"][inner]
            if encoding is not None:  # the trees see the input columns reordered
                features = np.asarray(encoding.order, dtype=np.int64)[features]
            pairs.append((features, nodes["num_threshold"][inner]))
    return pairs


def exact_trees(estimator):
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
    for j, values in zip(inputs["encoder"], encoder.categories_, strict=True):
        values = np.asarray(values)
        known = ~np.asarray([is_missing(v) for v in values], dtype=bool)
        columns[int(j)] = values[known]
    order = [int(j) for j in inputs["encoder"]] + [int(j) for j in inputs["numerical"]]
    return Categories(columns, order, pandas=isinstance(estimator.categorical_features, str))


def _is_hist_gradient_boosting(estimator) -> bool:
    return type(estimator).__name__ in NAMES

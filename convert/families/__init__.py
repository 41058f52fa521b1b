"""Model families whose trees compare in float64, and the exact numbers they compare with.

scikit-learn's forests and gradient boosting, and XGBoost, cast inputs to float32 before
comparing them with a threshold: the converters' float32 trees (with thresholds rounded down,
graph_fixes.round_thresholds_down) answer as they do. HistGradientBoosting and LightGBM compare
float64 inputs with float64 thresholds and sum float64 leaf values, which no float32 tree can
reproduce: a value within a float32 step of a threshold can go the other way. For those, each
family module here reads the model's own numbers, keyed as the converter numbers its nodes, and
tree_ensemble.rewrite writes them into a float64 TreeEnsemble.

A family module declares ``exact_trees(estimator) -> ExactTrees | None`` and is listed in
FAMILIES; None means the estimator is not of that family. A family whose estimator encodes
categorical inputs itself also declares ``categories(estimator) -> Categories | None``
(convert/families/categories.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import hist_gradient_boosting, lightgbm
from .categories import Categories


@dataclass
class ExactTrees:
    """An ensemble's numbers as the original computes with them, in float64.

    ``splits``: (tree id, node id) -> (feature, threshold) for each `x <= threshold` node;
    ``members``: (tree id, node id) -> (feature, categories) for each node that sends the
    categories listed (whole numbers) one way and every other value the other;
    ``leaves``: (tree id, node id) -> leaf value (the one weight of that leaf);
    ``base``: the values added to the trees' sums, per target (None: the converter's, which
    must then be zero). Tree and node ids are those the converter wrote;
    ``nodes``: for a family whose trees the converter writes in another shape (LightGBM's
    categorical splits), a function of the converter's tree attributes and whether the model is a
    classifier, giving the model's own trees in the same attribute layout, float64 and in its own
    node ids (which ``members`` then uses)."""

    family: str
    splits: dict[tuple[int, int], tuple[int, float]] = field(default_factory=dict)
    members: dict[tuple[int, int], tuple[int, tuple[int, ...]]] = field(default_factory=dict)
    leaves: dict[tuple[int, int], float] = field(default_factory=dict)
    base: np.ndarray | None = None
    nodes: Callable[[dict, bool], dict] | None = None


FAMILIES = (hist_gradient_boosting, lightgbm)


def input_categories(estimator) -> Categories | None:
    """How ``estimator`` encodes its categorical inputs itself, if it does."""
    for family in FAMILIES:
        found = family.categories(estimator)
        if found is not None:
            return found
    return None


def exact_trees(model) -> ExactTrees | None:
    """The float64 numbers of ``model``'s final estimator, when its family compares in float64."""
    from ..trees import final_and_preceding

    final, _ = final_and_preceding(model)
    for family in FAMILIES:
        found = family.exact_trees(final)
        if found is not None:
            return found
    return None

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

from . import hist_gradient_boosting, lightgbm
from .categories import Categories
from .exact import ExactTrees


FAMILIES = (hist_gradient_boosting, lightgbm)


def input_categories(estimator) -> Categories | None:
    """How ``estimator`` encodes its categorical inputs itself, if it does."""
    for family in FAMILIES:
        found = family.categories(estimator)
        if found is not None:
            return found
    return None


def exact_trees(final) -> ExactTrees | None:
    """The float64 numbers of ``final`` (a model's final estimator), when its family compares in float64."""
    for family in FAMILIES:
        found = family.exact_trees(final)
        if found is not None:
            return found
    return None

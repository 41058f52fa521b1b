"""Every other scikit-learn estimator skl2onnx converts (linear models, neighbours, SVMs,
naive Bayes, neural networks, calibrated, voting and stacking ensembles, ...): the family of
last resort, owning whatever no other family claims. Its estimators compute in float64 and
compare no thresholds; skl2onnx converts them as they are, and the parity gate decides."""

from __future__ import annotations

from .base import (  # noqa: F401  the defaults of the Family interface
    SKOPS_TYPES,
    SUFFIXES,
    check,
    compares_in_float32,
    fix_graph,
    fix_thresholds,
    load_file,
    no_categories as categories,
    no_exact_trees as exact_trees,
    no_numeric_categories as numeric_categories,
    no_thresholds as thresholds,
    register,
    wrap,
)

NAME = "scikit-learn"


def owns(estimator) -> bool:
    return True


def prepare(model):
    """LinearSVC at the end of a Pipeline, which skl2onnx cannot convert (it asks LinearSVC's
    converter for a ZipMap option it lacks), as the RidgeClassifier of the same coefficients:
    both answer argmax(X @ coef.T + intercept), and the parity gate checks it."""
    from sklearn.linear_model import RidgeClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    if not isinstance(model, Pipeline) or type(model.steps[-1][1]) is not LinearSVC:
        return model
    svc = model.steps[-1][1]
    ridge = RidgeClassifier()
    ridge.coef_, ridge.intercept_, ridge.classes_ = svc.coef_, svc.intercept_, svc.classes_
    ridge.n_features_in_ = svc.n_features_in_
    return Pipeline(model.steps[:-1] + [(model.steps[-1][0], ridge)])

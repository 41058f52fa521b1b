"""CatBoost models: CatBoostClassifier and CatBoostRegressor, from .cbm files (CatBoost's own
format) or pickles, a plain CatBoost object taking the one its loss function says.

CatBoost writes its trees in ONNX itself (catboost.utils.convert_to_onnx_object: one
TreeEnsembleClassifier or TreeEnsembleRegressor, `x > border` splits); the converter registered
here puts that node into skl2onnx's graph, so that a CatBoost model inside a Pipeline converts
as any other. CatBoost casts its input to float32 and compares it with float32 borders; the
parity gate proves each model. CatBoost's export writes no categorical, text or embedding
feature, no exponent of the Poisson and Tweedie losses, one class probability per sigmoid for
none (MultiClassOneVsAll gets a softmax) and no multi-target output: those are refused."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from ...runtime.text import first_line
from ..errors import LoadError, UnsupportedModel
from .base import (  # noqa: F401  the defaults of the Family interface
    fix_graph,
    fix_thresholds,
    no_categories as categories,
    no_exact_trees as exact_trees,
    no_numeric_categories as numeric_categories,
    prepare,
    register_converter,
)

NAME = "CatBoost"
SUFFIXES = (".cbm",)
SKOPS_TYPES = ()  # skops cannot rebuild a CatBoost model without running its code
CLASSIFIER_LOSSES = ("Logloss", "CrossEntropy", "MultiClass")
REFUSED_LOSSES = {
    "MultiClassOneVsAll": "its ONNX export gives softmax probabilities where CatBoost gives one sigmoid per class",
    "Poisson": "CatBoost predicts exp() of the trees' sum, which its ONNX export leaves out",
    "Tweedie": "CatBoost predicts exp() of the trees' sum, which its ONNX export leaves out",
    "MultiRMSE": "several targets, which CatBoost's ONNX export cannot write",
    "RMSEWithUncertainty": "a prediction and its uncertainty, which CatBoost's ONNX export cannot write",
}


def owns(estimator) -> bool:
    return type(estimator).__module__.startswith("catboost")


def compares_in_float32(estimator) -> bool:
    return True


def loss_function(model) -> str:
    """The loss's name, without its parameters ("Quantile:alpha=0.3" is "Quantile")."""
    return str(model.get_all_params().get("loss_function", "")).split(":", 1)[0]


def load_file(path: Path):
    try:
        import catboost
    except ImportError as err:
        raise LoadError(f"model file {path}: a CatBoost model needs catboost at build time ({first_line(err)})") from err
    from .. import native_files

    native_files.check("catboost", path)
    model = catboost.CatBoost()
    try:
        model.load_model(str(path), format="cbm")
    except catboost.CatBoostError as err:
        raise LoadError(f"model file {path}: not a readable CatBoost model ({first_line(err)})") from err
    return _as_estimator(model)


def wrap(obj):
    """A plain CatBoost object as its estimator; a CatBoost estimator alone or at the end of a
    Pipeline, with its scikit-learn attributes restored (_restore_attributes)."""
    from ..steps import final_and_preceding

    if type(obj).__name__ == "CatBoost" and owns(obj):
        return _as_estimator(obj)
    final, _ = final_and_preceding(obj)
    if not owns(final) or not final.is_fitted():
        return None
    _restore_attributes(final)
    return obj


def _restore_attributes(estimator) -> None:
    """The feature count, which CatBoost's pickling and load_model leave at 0, and the names
    it was trained with as feature_names_in_, where it was given names (not "0", "1", ...)."""
    names = list(estimator.feature_names_ or [])
    if not estimator.n_features_in_:
        estimator._n_features_in = len(names)
    if names and names != [str(j) for j in range(len(names))]:
        estimator.feature_names_in_ = np.asarray(names, dtype=object)


def _as_estimator(model):
    """A fitted catboost.CatBoost as the CatBoostClassifier or CatBoostRegressor its loss says."""
    import catboost

    loss = loss_function(model)
    if loss in REFUSED_LOSSES:
        raise UnsupportedModel(f"CatBoost loss {loss!r} is not supported: {REFUSED_LOSSES[loss]}")
    estimator = catboost.CatBoostClassifier() if loss in CLASSIFIER_LOSSES else catboost.CatBoostRegressor()
    estimator.load_model(blob=model._serialize_model())
    _restore_attributes(estimator)
    return estimator


def check(estimator, preceding: list) -> None:
    loss = loss_function(estimator)
    if loss in REFUSED_LOSSES:
        raise UnsupportedModel(f"CatBoost loss {loss!r} is not supported: {REFUSED_LOSSES[loss]}")
    if type(estimator).__name__ == "CatBoostClassifier" and loss not in CLASSIFIER_LOSSES:
        raise UnsupportedModel(f"CatBoost classifier loss {loss!r} is not supported; supported: {', '.join(CLASSIFIER_LOSSES)}")
    names = list(estimator.feature_names_ or [])
    for kind, found in (("categorical", estimator.get_cat_feature_indices()),
                        ("text", estimator.get_text_feature_indices()),
                        ("embedding", estimator.get_embedding_feature_indices())):
        if len(found):
            shown = ", ".join(names[j] if j < len(names) else str(j) for j in list(found)[:5])
            raise UnsupportedModel(
                f"CatBoost model with {kind} features ({shown}): CatBoost's ONNX export does not support them; "
                "retrain on numbers (encode them before CatBoost, e.g. an OrdinalEncoder in a Pipeline)"
            )


def thresholds(estimator):
    """CatBoost's borders: a split sends `x > border` one way."""
    pairs = [(j, float(b)) for j, borders in estimator.get_borders().items() for b in borders]
    features = np.asarray([j for j, _ in pairs], dtype=np.int64)
    return [(features, np.asarray([b for _, b in pairs], dtype=np.float64))]


@cache  # once per process
def register() -> None:
    try:
        from catboost import CatBoostClassifier, CatBoostRegressor
    except ImportError:
        return
    register_converter(CatBoostClassifier, None, "CatBoost", _convert, parser=_parse_classifier)
    register_converter(None, CatBoostRegressor, "CatBoost", _convert)


def _exported(model):
    """CatBoost's own ONNX graph of ``model``: one tree ensemble node (and a ZipMap)."""
    from catboost.utils import convert_to_onnx_object

    onx = convert_to_onnx_object(model)
    node = onx.graph.node[0] if len(onx.graph.node) else None
    if (node is None or not node.op_type.startswith("TreeEnsemble") or len(onx.graph.initializer)
            or any(n.op_type != "ZipMap" for n in onx.graph.node[1:])):
        raise UnsupportedModel(f"CatBoost's ONNX export wrote {', '.join(n.op_type for n in onx.graph.node)}, "
                               "not one tree ensemble")
    return onx, node


def _parse_classifier(scope, model, inputs, custom_parsers=None):
    """Outputs of a CatBoost classifier: its label (strings or integers, as CatBoost exports
    them) and probabilities, then a ZipMap unless the zipmap option is False."""
    from skl2onnx._parse import _apply_zipmap, _get_sklearn_operator_name
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType, guess_tensor_type

    options = scope.get_options(model, {"zipmap": True})
    operator = scope.declare_local_operator(_get_sklearn_operator_name(type(model)), model)
    operator.inputs = inputs
    _, node = _exported(model)
    strings = any(a.name == "classlabels_strings" for a in node.attribute)
    label = scope.declare_local_variable("label", StringTensorType() if strings else Int64TensorType())
    probabilities = scope.declare_local_variable("probabilities", guess_tensor_type(inputs[0].type))
    operator.outputs.extend([label, probabilities])
    if isinstance(options["zipmap"], bool) and not options["zipmap"]:
        return operator.outputs
    return _apply_zipmap(options["zipmap"], scope, model, inputs[0].type, operator.outputs)


def _convert(scope, operator, container):
    from onnx.helper import get_attribute_value

    onx, node = _exported(operator.raw_operator)
    opsets = {d.domain: d.version for d in onx.opset_import}
    container.add_node(
        node.op_type, [operator.inputs[0].full_name], [o.full_name for o in operator.outputs],
        op_domain=node.domain, op_version=opsets.get(node.domain),
        name=scope.get_unique_operator_name("CatBoost"),
        **{a.name: get_attribute_value(a) for a in node.attribute},
    )

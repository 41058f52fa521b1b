"""What a model family module provides (``Family``), the defaults a module takes for what its
family does not do, and the numbers a family that compares in float64 hands the tree rewrite
(``ExactTrees``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

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


# Pairs of (feature indices, thresholds), both 1-d arrays of the same length.
Thresholds = list[tuple[np.ndarray, np.ndarray]]


@runtime_checkable
class Family(Protocol):
    """One model family: a module of convert/families listed in ``FAMILIES``.

    ``estimator`` is the final estimator of a model (the last step of its Pipelines); ``model``
    the whole model as loaded. A module takes the default of this file for what its family
    does not do (``from .base import no_categories as categories``, ...)."""

    NAME: str
    SUFFIXES: tuple[str, ...]  # the family's native model files, read by load_file
    SKOPS_TYPES: tuple[str, ...]  # type-name prefixes a skops file may hold for this family

    def owns(self, estimator) -> bool:
        """Whether ``estimator`` is of this family."""

    def load_file(self, path: Path):
        """The estimator in a native model file of one of SUFFIXES."""

    def wrap(self, obj):
        """A native object read from a pickle (a Booster) as an estimator; None when not the family's."""

    def register(self) -> None:
        """Teach skl2onnx the family's estimators (update_registered_converter), once."""

    def check(self, estimator, preceding: list) -> None:
        """Raise UnsupportedModel, in one line saying what to change, for what ONNX cannot reproduce."""

    def compares_in_float32(self, estimator) -> bool:
        """Whether the estimator casts its input to float32 before comparing it with thresholds."""

    def prepare(self, model):
        """The model as the converter takes it (a copy where it had to change); the same answers."""

    def thresholds(self, estimator) -> Thresholds:
        """The split thresholds, per input column, in the units the estimator compares."""

    def exact_trees(self, estimator) -> ExactTrees | None:
        """The float64 numbers of a family that compares in float64."""

    def categories(self, estimator) -> Categories | None:
        """How the estimator encodes its categorical inputs itself, if it does."""

    def numeric_categories(self, estimator) -> dict[int, np.ndarray]:
        """Input columns the estimator reads as categories given as numbers, with the values it knows."""

    def fix_graph(self, onx, model) -> None:
        """Repairs to the converted graph, right after the categorical encoding is written."""

    def fix_thresholds(self, onx, model) -> bool:
        """Write the family's own thresholds into the converted trees; False leaves them to
        graph_fixes.round_thresholds_down (the float32 floor of each)."""


# --- defaults --------------------------------------------------------------------------------

SUFFIXES: tuple[str, ...] = ()
SKOPS_TYPES: tuple[str, ...] = ()


def load_file(path: Path):
    raise NotImplementedError(f"no native model file of this family: {path}")


def wrap(obj):
    return None


def register() -> None:
    return None


def check(estimator, preceding: list) -> None:
    return None


def compares_in_float32(estimator) -> bool:
    return False


def prepare(model):
    return model


def no_thresholds(estimator) -> Thresholds:
    return []


def no_exact_trees(estimator) -> ExactTrees | None:
    return None


def no_categories(estimator) -> Categories | None:
    return None


def no_numeric_categories(estimator) -> dict[int, np.ndarray]:
    return {}


def fix_graph(onx, model) -> None:
    return None


def fix_thresholds(onx, model) -> bool:
    return False


def register_converter(classifier, regressor, alias: str, converter, parser=None) -> None:
    """Register ``converter`` with skl2onnx for a classifier and a regressor class (either None)."""
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    if classifier is not None:
        update_registered_converter(
            classifier, f"{alias}{classifier.__name__}", calculate_linear_classifier_output_shapes,
            converter, options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
            **({"parser": parser} if parser is not None else {}),
        )
    if regressor is not None:
        update_registered_converter(
            regressor, f"{alias}{regressor.__name__}", calculate_linear_regressor_output_shapes, converter,
        )

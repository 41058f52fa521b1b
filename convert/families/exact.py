"""ExactTrees: what a family module (convert/families/) reads from an ensemble it answers for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


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

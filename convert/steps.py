"""The estimator at the end of a model's Pipelines."""

from __future__ import annotations


def final_and_preceding(model):
    """The estimator at the end of (nested) Pipelines, and the (name, step) pairs before it."""
    preceding = []
    while getattr(model, "steps", None):
        preceding.extend(model.steps[:-1])
        model = model.steps[-1][1]
    return model, preceding

"""Every row of the coverage matrix (tests/convert/coverage.py): trained on data no test saw
before, converted, and either served by the handler within the converter's default tolerance
on fresh rows, or refused with one line. The table in docs/coverage.md must be the matrix's."""

from __future__ import annotations

import pytest

from .coverage import CASES, TOLERANCE, measure, page_table, render


@pytest.mark.slow  # the whole matrix: each case trains, converts and serves a model
@pytest.mark.parametrize("name", list(CASES))
def test_served_within_tolerance_or_refused_with_a_reason(name):
    row = measure(name)  # measure() asserts the served answers on fresh rows
    if row.served == "refused":
        assert row.detail and "\n" not in row.detail
    else:
        assert row.served.split(" + ")[-1] in ("probabilities", "decision_function", "prediction", "label")


@pytest.mark.parametrize("name,reason", [
    # equidistant neighbours on integer features: the silent difference the gate exists to stop
    ("KNeighborsClassifier(n_neighbors=4), integer features", "neighbours tie at the same distance"),
    ("CalibratedClassifierCV (isotonic)", "method='sigmoid'"),
    ("LGBMRegressor zero_as_missing", "zero_as_missing=False"),
    ("LGBMRegressor boosting_type=rf", "boosting='gbdt'"),
    ("LGBMClassifier multiclassova", "'multiclassova'"),
    ("CatBoostClassifier, cat_features", "retrain on numbers"),
    ("CatBoostRegressor Poisson", "exp()"),
])
def test_known_traps_are_refused_with_what_to_do(name, reason):
    row = measure(name)
    assert row.served == "refused" and reason in row.detail, row


@pytest.mark.parametrize("name,served", [
    ("VotingClassifier (soft)", "label + probabilities"),
    ("VotingClassifier (hard)", "label"),
    ("SVC", "label + decision_function"),
    ("LinearSVC", "label + decision_function"),
    ("IsolationForest", "label + decision_function"),
    ("LGBMClassifier multiclass", "label + probabilities"),
    ("OrdinalEncoder + LGBMClassifier, categorical_feature", "label + probabilities"),
    # categorical splits, as each library computes them (set-membership nodes)
    ("LGBMClassifier, categorical_feature on raw numbers", "label + probabilities"),
    ("LGBMClassifier, pandas category columns", "label + probabilities"),
    ("HistGradientBoostingClassifier, pandas category columns", "label + probabilities"),
    ("OrdinalEncoder + HistGradientBoostingClassifier, categorical_features by name", "label + probabilities"),
])
def test_each_kind_says_what_its_numbers_are(name, served):
    assert measure(name).served == served


def test_coverage_table_names_every_case_in_order():
    """Fast: the page holds one row per case of the matrix, in its order (no model is trained)."""
    lines = page_table().splitlines()
    assert lines[:2] == render([]).splitlines()
    assert [line.split(" | ")[0].removeprefix("| ") for line in lines[2:]] == list(CASES)


@pytest.mark.slow
def test_coverage_table_is_the_matrix():
    assert page_table() == render([measure(name) for name in CASES]), (
        "docs/coverage.md's coverage table differs from the matrix: run python -m tests.convert.coverage --write"
    )


def test_tolerance_is_the_converters_default():
    from lambda_tabular.convert.build import Request

    assert TOLERANCE == Request(model=None, out=None).tolerance

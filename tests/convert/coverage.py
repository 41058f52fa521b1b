"""The coverage matrix: every model kind we serve or refuse, trained on synthetic data, converted,
then served by the runtime's handler on fresh rows and compared with the original. Each family
is also trained on scikit-learn's bundled real data sets (measured with few digits, values that
repeat and sit on split thresholds) and served every real row, without a --sample.

The coverage table in docs/coverage.md is rendered from it (python -m tests.convert.coverage --write)
and tests/convert/test_coverage.py fails when the two disagree.
"""

from __future__ import annotations

import argparse
import functools
import math
import re
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from lambda_tabular.convert.build import Request, build
from lambda_tabular.convert.errors import ConvertError

from .models import column_transformer, diabetes_members, labels, mixed_frame, numeric_data

ROOT = Path(__file__).resolve().parents[2]
TABLE_PAGE = ROOT / "docs" / "coverage.md"
BEGIN, END = "<!-- coverage:begin -->", "<!-- coverage:end -->"
TOLERANCE = 1e-4  # the converter's default: what a user gets without --tolerance
FRESH_SEED = 99


@dataclass(frozen=True)
class Case:
    family: str
    factory: Callable
    data: str  # numeric | missing | mixed | frame | integers | counts, or a real data set (REAL, MEMBERS)
    target: object  # 0: regression, n: n classes, "strings": string labels, None: no target


def _sk():
    """scikit-learn, XGBoost, LightGBM and CatBoost, imported once for the case factories."""
    import catboost
    import lightgbm
    import sklearn.calibration as calibration
    import sklearn.ensemble as ensemble
    import sklearn.impute as impute
    import sklearn.linear_model as linear
    import sklearn.naive_bayes as naive_bayes
    import sklearn.neighbors as neighbors
    import sklearn.neural_network as neural
    import sklearn.pipeline as pipeline
    import sklearn.preprocessing as pre
    import sklearn.svm as svm
    import xgboost

    return dict(
        lgb=lightgbm, cal=calibration, ens=ensemble, imp=impute, lin=linear, nb=naive_bayes, nn=neighbors,
        mlp=neural, pipe=pipeline, pre=pre, svm=svm, xgb=xgboost, cb=catboost,
    )


XGB = {"n_estimators": 40, "max_depth": 4, "n_jobs": 1, "random_state": 0}
LGB = {"n_estimators": 40, "num_leaves": 15, "n_jobs": 1, "random_state": 0, "verbose": -1}
CB = {"iterations": 40, "depth": 4, "thread_count": 1, "random_seed": 0, "verbose": 0, "allow_writing_files": False}


def _ordinal_lightgbm(s):
    from sklearn.compose import ColumnTransformer

    prep = ColumnTransformer(
        [("cat", s["pre"].OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["plan", "region"]),
         ("num", "passthrough", ["age", "income", "score"])],
        sparse_threshold=0,
    )
    return s["pipe"].Pipeline([("prep", prep), ("model", s["lgb"].LGBMClassifier(categorical_feature=[0, 1], **LGB))])


def _encoders(s, final):
    from sklearn.compose import ColumnTransformer

    prep = ColumnTransformer(
        [("num", s["pipe"].make_pipeline(s["imp"].SimpleImputer(), s["pre"].KBinsDiscretizer(n_bins=6, encode="onehot-dense")), ["age", "income", "score"]),
         ("plan", s["pre"].OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["plan"]),
         ("region", s["pre"].TargetEncoder(random_state=0), ["region"])],
        sparse_threshold=0,
    )
    return s["pipe"].Pipeline([("prep", prep), ("model", final)])


def _ordinal_hist_gradient_boosting(s):
    """The documented way to give HistGradientBoosting categories inside a Pipeline: an
    OrdinalEncoder in front, and the encoded columns named in categorical_features."""
    from sklearn.compose import ColumnTransformer

    prep = ColumnTransformer(
        [("cat", s["pre"].OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan), ["plan", "region"])],
        remainder="passthrough", verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    model = s["ens"].HistGradientBoostingClassifier(max_iter=60, categorical_features=["plan", "region"], random_state=0)
    return s["pipe"].Pipeline([("prep", prep), ("model", model)])


def _text_imputer(s, strategy: str, final=None):
    """The classic recipe for categories with gaps: impute the text, then one-hot encode it."""
    from sklearn.compose import ColumnTransformer

    text = s["pipe"].make_pipeline(
        s["imp"].SimpleImputer(strategy=strategy, fill_value="missing"),
        s["pre"].OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    numbers = s["pipe"].make_pipeline(s["imp"].SimpleImputer(), s["pre"].StandardScaler())
    prep = ColumnTransformer([("num", numbers, ["age", "income", "score"]), ("cat", text, ["plan", "region"])], sparse_threshold=0)
    return s["pipe"].Pipeline([("prep", prep), ("model", s["lin"].LogisticRegression(max_iter=1000) if final is None else final)])


CASES: dict[str, Case] = {
    # linear models
    "LogisticRegression": Case("linear", lambda s: s["lin"].LogisticRegression(max_iter=1000), "numeric", 2),
    "LogisticRegression, 3 classes": Case("linear", lambda s: s["lin"].LogisticRegression(max_iter=1000), "numeric", 3),
    "LinearRegression": Case("linear", lambda s: s["lin"].LinearRegression(), "numeric", 0),
    "Ridge": Case("linear", lambda s: s["lin"].Ridge(), "numeric", 0),
    "RidgeClassifier": Case("linear", lambda s: s["lin"].RidgeClassifier(), "numeric", 3),
    "LinearSVC": Case("svm", lambda s: s["pipe"].make_pipeline(s["pre"].StandardScaler(), s["svm"].LinearSVC()), "numeric", 2),
    # trees and boosting
    "RandomForestClassifier": Case("trees", lambda s: s["ens"].RandomForestClassifier(40, random_state=0), "numeric", 3),
    "RandomForestRegressor": Case("trees", lambda s: s["ens"].RandomForestRegressor(40, random_state=0), "numeric", 0),
    "ExtraTreesClassifier": Case("trees", lambda s: s["ens"].ExtraTreesClassifier(40, random_state=0), "numeric", 2),
    "ExtraTreesRegressor": Case("trees", lambda s: s["ens"].ExtraTreesRegressor(40, random_state=0), "numeric", 0),
    "GradientBoostingClassifier": Case("trees", lambda s: s["ens"].GradientBoostingClassifier(n_estimators=60, random_state=0), "numeric", 3),
    "GradientBoostingRegressor": Case("trees", lambda s: s["ens"].GradientBoostingRegressor(n_estimators=60, random_state=0), "numeric", 0),
    "HistGradientBoostingClassifier": Case("trees", lambda s: s["ens"].HistGradientBoostingClassifier(max_iter=60, random_state=0), "missing", 2),
    "HistGradientBoostingClassifier, 3 classes": Case("trees", lambda s: s["ens"].HistGradientBoostingClassifier(max_iter=60, random_state=0), "missing", 3),
    "HistGradientBoostingRegressor": Case("trees", lambda s: s["ens"].HistGradientBoostingRegressor(max_iter=60, random_state=0), "missing", 0),
    "HistGradientBoostingClassifier, pandas category columns": Case("trees", lambda s: s["ens"].HistGradientBoostingClassifier(max_iter=60, random_state=0), "categories", 2),
    "HistGradientBoostingClassifier, 3 classes, pandas category columns": Case("trees", lambda s: s["ens"].HistGradientBoostingClassifier(max_iter=60, random_state=0), "categories", 3),
    "HistGradientBoostingRegressor, pandas category columns": Case("trees", lambda s: s["ens"].HistGradientBoostingRegressor(max_iter=60, random_state=0), "categories", 0),
    "OrdinalEncoder + HistGradientBoostingClassifier, categorical_features by name": Case("trees", _ordinal_hist_gradient_boosting, "mixed", 2),
    "RandomForestClassifier, string labels": Case("trees", lambda s: s["ens"].RandomForestClassifier(30, random_state=0), "numeric", "strings"),
    # XGBoost
    "XGBClassifier binary:logistic": Case("xgboost", lambda s: s["xgb"].XGBClassifier(objective="binary:logistic", **XGB), "missing", 2),
    "XGBClassifier multi:softprob": Case("xgboost", lambda s: s["xgb"].XGBClassifier(objective="multi:softprob", **XGB), "missing", 4),
    "XGBRegressor reg:squarederror": Case("xgboost", lambda s: s["xgb"].XGBRegressor(objective="reg:squarederror", **XGB), "missing", 0),
    "XGBClassifier on a DataFrame": Case("xgboost", lambda s: s["xgb"].XGBClassifier(**XGB), "frame", 2),
    "StandardScaler + XGBClassifier": Case("xgboost", lambda s: s["pipe"].make_pipeline(s["pre"].StandardScaler(), s["xgb"].XGBClassifier(**XGB)), "numeric", 2),
    "ColumnTransformer + XGBClassifier": Case("xgboost", lambda s: s["pipe"].Pipeline([("prep", column_transformer()), ("model", s["xgb"].XGBClassifier(**XGB))]), "mixed", 3),
    "XGBClassifier multi:softmax": Case("xgboost", lambda s: s["xgb"].XGBClassifier(objective="multi:softmax", **XGB), "numeric", 3),
    # LightGBM
    "LGBMClassifier binary": Case("lightgbm", lambda s: s["lgb"].LGBMClassifier(**LGB), "missing", 2),
    "LGBMClassifier multiclass": Case("lightgbm", lambda s: s["lgb"].LGBMClassifier(**LGB), "missing", 3),
    "LGBMRegressor": Case("lightgbm", lambda s: s["lgb"].LGBMRegressor(**LGB), "missing", 0),
    "LGBMRegressor poisson": Case("lightgbm", lambda s: s["lgb"].LGBMRegressor(objective="poisson", **LGB), "counts", 0),
    "LGBMClassifier on a DataFrame": Case("lightgbm", lambda s: s["lgb"].LGBMClassifier(**LGB), "frame", 2),
    "ColumnTransformer + LGBMRegressor": Case("lightgbm", lambda s: s["pipe"].Pipeline([("prep", column_transformer()), ("model", s["lgb"].LGBMRegressor(**LGB))]), "mixed", 0),
    "OrdinalEncoder + LGBMClassifier, categorical_feature": Case("lightgbm", _ordinal_lightgbm, "mixed", 2),
    "LGBMClassifier, categorical_feature on raw numbers": Case("lightgbm", lambda s: _FitWith(s["lgb"].LGBMClassifier(**LGB), categorical_feature=[3]), "integers", 2),
    "LGBMRegressor, categorical_feature on raw numbers": Case("lightgbm", lambda s: _FitWith(s["lgb"].LGBMRegressor(**LGB), categorical_feature=[0, 3]), "integers", 0),
    "LGBMClassifier, pandas category columns": Case("lightgbm", lambda s: s["lgb"].LGBMClassifier(min_data_per_group=10, **LGB), "categories", 3),
    "LGBMClassifier multiclassova": Case("lightgbm", lambda s: s["lgb"].LGBMClassifier(objective="multiclassova", **LGB), "numeric", 3),
    "LGBMRegressor boosting_type=rf": Case("lightgbm", lambda s: s["lgb"].LGBMRegressor(boosting_type="rf", subsample=0.8, subsample_freq=1, **LGB), "numeric", 0),
    "LGBMRegressor zero_as_missing": Case("lightgbm", lambda s: s["lgb"].LGBMRegressor(zero_as_missing=True, **LGB), "numeric", 0),
    # CatBoost
    "CatBoostClassifier Logloss": Case("catboost", lambda s: s["cb"].CatBoostClassifier(**CB), "missing", 2),
    "CatBoostClassifier MultiClass": Case("catboost", lambda s: s["cb"].CatBoostClassifier(**CB), "numeric", 3),
    "CatBoostRegressor RMSE": Case("catboost", lambda s: s["cb"].CatBoostRegressor(**CB), "missing", 0),
    "CatBoostClassifier on a DataFrame": Case("catboost", lambda s: s["cb"].CatBoostClassifier(**CB), "frame", 2),
    "StandardScaler + CatBoostClassifier": Case("catboost", lambda s: s["pipe"].make_pipeline(s["pre"].StandardScaler(), s["cb"].CatBoostClassifier(**CB)), "numeric", 2),
    "CatBoostClassifier, cat_features": Case("catboost", lambda s: s["cb"].CatBoostClassifier(cat_features=["plan", "region"], **CB), "mixed", 2),
    "CatBoostRegressor Poisson": Case("catboost", lambda s: s["cb"].CatBoostRegressor(loss_function="Poisson", **CB), "counts", 0),
    # pipelines and encoders
    "SimpleImputer + StandardScaler + LogisticRegression": Case("pipeline", lambda s: s["pipe"].make_pipeline(s["imp"].SimpleImputer(), s["pre"].StandardScaler(), s["lin"].LogisticRegression()), "missing", 2),
    "SimpleImputer + StandardScaler + RandomForestRegressor": Case("pipeline", lambda s: s["pipe"].make_pipeline(s["imp"].SimpleImputer(strategy="median"), s["pre"].StandardScaler(), s["ens"].RandomForestRegressor(30, random_state=0)), "missing", 0),
    "ColumnTransformer + GradientBoostingClassifier": Case("pipeline", lambda s: s["pipe"].Pipeline([("prep", column_transformer()), ("model", s["ens"].GradientBoostingClassifier(n_estimators=40, random_state=0))]), "mixed", 2),
    "ColumnTransformer + LogisticRegression": Case("pipeline", lambda s: s["pipe"].Pipeline([("prep", column_transformer()), ("model", s["lin"].LogisticRegression(max_iter=1000))]), "mixed", 3),
    "ColumnTransformer + Ridge": Case("pipeline", lambda s: s["pipe"].Pipeline([("prep", column_transformer()), ("model", s["lin"].Ridge())]), "mixed", 0),
    "SimpleImputer(constant) + OneHotEncoder on text with gaps + LogisticRegression": Case("pipeline", lambda s: _text_imputer(s, "constant"), "gaps", 2),
    "SimpleImputer(most_frequent) + OneHotEncoder on text with gaps + RandomForestRegressor": Case("pipeline", lambda s: _text_imputer(s, "most_frequent", s["ens"].RandomForestRegressor(30, random_state=0)), "gaps", 0),
    "KBinsDiscretizer + OrdinalEncoder + TargetEncoder + LogisticRegression": Case("pipeline", lambda s: _encoders(s, s["lin"].LogisticRegression(max_iter=1000)), "mixed", 2),
    "MinMaxScaler + RobustScaler + PolynomialFeatures + Ridge": Case("pipeline", lambda s: s["pipe"].make_pipeline(s["pre"].MinMaxScaler(), s["pre"].RobustScaler(), s["pre"].PolynomialFeatures(2), s["lin"].Ridge()), "numeric", 0),
    # ensembles and calibration
    "CalibratedClassifierCV (sigmoid)": Case("ensemble", lambda s: s["cal"].CalibratedClassifierCV(s["lin"].LogisticRegression(max_iter=1000)), "numeric", 3),
    "CalibratedClassifierCV (isotonic)": Case("ensemble", lambda s: s["cal"].CalibratedClassifierCV(s["ens"].RandomForestClassifier(20, random_state=0), method="isotonic"), "numeric", 2),
    "VotingClassifier (soft)": Case("ensemble", lambda s: s["ens"].VotingClassifier([("lr", s["lin"].LogisticRegression(max_iter=1000)), ("nb", s["nb"].GaussianNB())], voting="soft"), "numeric", 3),
    "VotingClassifier (hard)": Case("ensemble", lambda s: s["ens"].VotingClassifier([("lr", s["lin"].LogisticRegression(max_iter=1000)), ("nb", s["nb"].GaussianNB()), ("rf", s["ens"].RandomForestClassifier(10, random_state=0))], voting="hard"), "numeric", 3),
    "VotingRegressor": Case("ensemble", lambda s: s["ens"].VotingRegressor([("ridge", s["lin"].Ridge()), ("rf", s["ens"].RandomForestRegressor(10, random_state=0))]), "numeric", 0),
    "StackingClassifier": Case("ensemble", lambda s: s["ens"].StackingClassifier([("lr", s["lin"].LogisticRegression(max_iter=1000)), ("rf", s["ens"].RandomForestClassifier(10, random_state=0))]), "numeric", 3),
    "StackingRegressor": Case("ensemble", lambda s: s["ens"].StackingRegressor([("ridge", s["lin"].Ridge()), ("rf", s["ens"].RandomForestRegressor(10, random_state=0))]), "numeric", 0),
    # SVMs, neighbours, networks, naive Bayes
    "SVC (probability=True)": Case("svm", lambda s: s["pipe"].make_pipeline(s["pre"].StandardScaler(), s["svm"].SVC(probability=True, random_state=0)), "numeric", 2),
    "SVC": Case("svm", lambda s: s["pipe"].make_pipeline(s["pre"].StandardScaler(), s["svm"].SVC()), "numeric", 2),
    "SVC, 3 classes": Case("svm", lambda s: s["pipe"].make_pipeline(s["pre"].StandardScaler(), s["svm"].SVC()), "numeric", 3),
    "SVR": Case("svm", lambda s: s["pipe"].make_pipeline(s["pre"].StandardScaler(), s["svm"].SVR()), "numeric", 0),
    "KNeighborsClassifier": Case("neighbors", lambda s: s["pipe"].make_pipeline(s["pre"].StandardScaler(), s["nn"].KNeighborsClassifier()), "numeric", 3),
    "KNeighborsRegressor": Case("neighbors", lambda s: s["pipe"].make_pipeline(s["pre"].StandardScaler(), s["nn"].KNeighborsRegressor()), "numeric", 0),
    "KNeighborsClassifier(n_neighbors=4), integer features": Case("neighbors", lambda s: s["nn"].KNeighborsClassifier(n_neighbors=4), "integers", 2),
    "MLPClassifier": Case("neural", lambda s: s["pipe"].make_pipeline(s["pre"].StandardScaler(), s["mlp"].MLPClassifier(max_iter=400, random_state=0)), "numeric", 3),
    "MLPRegressor": Case("neural", lambda s: s["pipe"].make_pipeline(s["pre"].StandardScaler(), s["mlp"].MLPRegressor(max_iter=400, random_state=0)), "numeric", 0),
    "GaussianNB": Case("naive_bayes", lambda s: s["nb"].GaussianNB(), "numeric", 3),
    "BernoulliNB": Case("naive_bayes", lambda s: s["nb"].BernoulliNB(), "numeric", 2),
    "MultinomialNB": Case("naive_bayes", lambda s: s["nb"].MultinomialNB(), "counts", 3),
    # real data: the converter sees no --sample; every real row is served
    "RandomForestClassifier, breast cancer": Case("trees", lambda s: s["ens"].RandomForestClassifier(40, random_state=0), "breast_cancer", 2),
    "ExtraTreesRegressor, diabetes": Case("trees", lambda s: s["ens"].ExtraTreesRegressor(40, random_state=0), "diabetes", 0),
    "GradientBoostingClassifier, wine": Case("trees", lambda s: s["ens"].GradientBoostingClassifier(n_estimators=60, random_state=0), "wine", 3),
    "HistGradientBoostingClassifier, breast cancer": Case("trees", lambda s: s["ens"].HistGradientBoostingClassifier(max_iter=60, random_state=0), "breast_cancer", 2),
    "HistGradientBoostingClassifier, wine": Case("trees", lambda s: s["ens"].HistGradientBoostingClassifier(max_iter=60, random_state=0), "wine", 3),
    "HistGradientBoostingRegressor, diabetes with sex and age band as categories": Case("trees", lambda s: s["ens"].HistGradientBoostingRegressor(max_iter=60, random_state=0), "diabetes_categories", 0),
    "HistGradientBoostingRegressor, diabetes": Case("trees", lambda s: s["ens"].HistGradientBoostingRegressor(max_iter=60, random_state=0), "diabetes", 0),
    "XGBClassifier, breast cancer": Case("xgboost", lambda s: s["xgb"].XGBClassifier(**XGB), "breast_cancer", 2),
    "XGBRegressor, diabetes": Case("xgboost", lambda s: s["xgb"].XGBRegressor(**XGB), "diabetes", 0),
    "XGBClassifier, diabetes with a bool column": Case("xgboost", lambda s: s["xgb"].XGBClassifier(**XGB), "diabetes_members", 2),
    "LGBMClassifier, wine": Case("lightgbm", lambda s: s["lgb"].LGBMClassifier(**LGB), "wine", 3),
    "LGBMRegressor, diabetes": Case("lightgbm", lambda s: s["lgb"].LGBMRegressor(**LGB), "diabetes", 0),
    "CatBoostClassifier, breast cancer": Case("catboost", lambda s: s["cb"].CatBoostClassifier(**CB), "breast_cancer", 2),
    "CatBoostClassifier, wine": Case("catboost", lambda s: s["cb"].CatBoostClassifier(**CB), "wine", 3),
    "CatBoostRegressor, diabetes": Case("catboost", lambda s: s["cb"].CatBoostRegressor(**CB), "diabetes", 0),
    "StandardScaler + LGBMClassifier, breast cancer with 8% missing": Case("lightgbm", lambda s: s["pipe"].make_pipeline(s["pre"].StandardScaler(), s["lgb"].LGBMClassifier(**LGB)), "breast_cancer_missing", 2),
    "StandardScaler + LogisticRegression, breast cancer": Case("linear", lambda s: s["pipe"].make_pipeline(s["pre"].StandardScaler(), s["lin"].LogisticRegression(max_iter=1000)), "breast_cancer", 2),
    "Ridge, diabetes": Case("linear", lambda s: s["lin"].Ridge(), "diabetes", 0),
    # outlier detection
    "IsolationForest": Case("anomaly", lambda s: s["ens"].IsolationForest(n_estimators=50, random_state=0), "numeric", None),
    "OneClassSVM": Case("anomaly", lambda s: s["pipe"].make_pipeline(s["pre"].StandardScaler(), s["svm"].OneClassSVM(nu=0.05)), "numeric", None),
}


class _FitWith:
    """An estimator fitted with extra fit() arguments (LightGBM's categorical_feature)."""

    def __init__(self, estimator, **fit_args):
        self.estimator, self.fit_args = estimator, fit_args

    def fit(self, X, y):
        return self.estimator.fit(X, y, **self.fit_args)


REAL = ("breast_cancer", "breast_cancer_missing", "diabetes", "wine", "diabetes_categories")
MEMBERS = "diabetes_members"  # diabetes as a DataFrame, its sex column a pandas bool column; a binary target


def real_dataset(kind: str):
    """A data set scikit-learn ships (no download); the same rows whatever the seed."""
    import sklearn.datasets

    if kind == "diabetes_categories":  # its two sex codes and its ages in bands, as pandas categories
        frame, y = sklearn.datasets.load_diabetes(return_X_y=True, as_frame=True, scaled=False)
        frame["sex"] = pd.Categorical(frame["sex"].map({1.0: "female", 2.0: "male"}))
        frame["age"] = pd.cut(frame["age"], [0, 35, 50, 65, 120], labels=["<35", "35-50", "50-65", "65+"])
        return frame, y.to_numpy()
    X, y = getattr(sklearn.datasets, f"load_{kind.removesuffix('_missing')}")(return_X_y=True)
    if kind.endswith("_missing"):
        X = X.copy()
        X[np.random.default_rng(0).random(X.shape) < 0.08] = np.nan
    return X, y


def dataset(kind: str, target, seed: int):
    rng = np.random.default_rng(seed + 1000)
    if kind == MEMBERS:
        return diabetes_members()
    if kind in REAL:
        X, y = real_dataset(kind)
        return X, (y if target is not None else None)
    if kind == "mixed":
        X, signal = mixed_frame(seed)
    elif kind == "gaps":  # text columns with None where a value was not recorded
        X, signal = mixed_frame(seed)
        X = X.astype({"plan": object, "region": object})
        for name in ("plan", "region"):
            X.loc[rng.random(len(X)) < 0.08, name] = None
    elif kind == "categories":  # pandas category columns, text with gaps and whole numbers
        X, signal = mixed_frame(seed)
        X.loc[rng.random(len(X)) < 0.05, "region"] = None
        X["rooms"] = rng.integers(1, 6, len(X))
        signal = signal + (X["rooms"] % 2) * 0.7
        X = X.astype({"plan": "category", "region": "category", "rooms": "category"})
    elif kind == "integers":  # small counts 0-3, as in survey answers or ratings
        X = rng.integers(0, 4, size=(600, 4)).astype(float)
        signal = X @ [1.0, -0.5, 0.8, 0.3] + rng.normal(0, 0.5, 600)
    elif kind == "counts":
        X, signal = numeric_data(seed)
        X = np.abs(np.round(X - X.min(axis=0)))
        signal = np.log1p(np.abs(signal))
    else:
        X, signal = numeric_data(seed, missing=0.1 if kind == "missing" else 0.0)
        if kind == "frame":
            X = pd.DataFrame(X, columns=["ph", "turbidity", "tds", "temperature", "flow"])
    if target is None:
        return X, None
    if target == 0:
        return X, signal - signal.min() if kind == "counts" else signal
    if target == "strings":
        return X, np.array(["low", "mid", "high"])[labels(signal, 3)]
    return X, labels(signal, target)


@dataclass(frozen=True)
class Row:
    case: str
    family: str
    served: str  # what the answer carries, or "refused"
    detail: str  # input dtype and parity bucket, or the refusal's reason

    def markdown(self) -> str:
        return f"| {self.case} | {self.family} | {self.served} | {self.detail} |"


@functools.cache
def measure(name: str) -> Row:
    """Train, convert, serve fresh rows through the handler and compare: the row of the table."""
    case = CASES[name]
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tmp = Path(tmp)
        X, y = dataset(case.data, case.target, seed=1)
        model = case.factory(_sk())
        model = model.fit(X, y) if y is not None else model.fit(X)
        joblib.dump(model, tmp / "model.joblib")
        try:
            metadata = build(Request(tmp / "model.joblib", tmp / "out", tolerance=TOLERANCE), log=lambda *a: None)
        except ConvertError as err:
            return Row(name, case.family, "refused", _reason(str(err)))
        fresh, _ = dataset(case.data, case.target, seed=FRESH_SEED)
        worst, served = served_difference(model, metadata, tmp / "out", fresh)
        assert worst <= TOLERANCE, f"{name}: served answers differ from the original by {worst:g} on fresh rows"
        return Row(name, case.family, served, f"{metadata['onnx']['input_dtype']}, {bucket(worst)}")


def served_difference(model, metadata: dict, model_dir: Path, fresh) -> tuple[float, str]:
    """The largest difference (scaled by max(1, |value|)) between the original and the handler's
    answers on ``fresh`` rows, labels included; and what the answers carry."""
    from lambda_tabular.runtime import App, Settings

    names = [f["name"] for f in metadata["features"]]
    frame = fresh if isinstance(fresh, pd.DataFrame) else pd.DataFrame(fresh, columns=names)
    refused = metadata["parity"]["missing_values_refused"]
    if refused:
        frame = frame[~frame[refused].isna().any(axis=1)]
    app = App.from_settings(Settings(model_dir=model_dir, metrics=False, log_level="ERROR"))
    rows = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in frame.to_dict("records")]
    answer = app({"instances": rows})
    assert "error" not in answer, answer
    original_input = frame if hasattr(model, "feature_names_in_") else frame.to_numpy()
    task, outputs = metadata["task"], metadata["onnx"]["outputs"]
    kinds = [k for k in outputs if k != "label"]
    if task == "regression":
        expected = np.asarray(model.predict(original_input), dtype=np.float64)
        return _scaled(np.asarray(answer["predictions"], dtype=np.float64).reshape(expected.shape), expected), "prediction"
    worst = 0.0
    scores = None
    if kinds:
        method = {"probabilities": "predict_proba", "decision_function": "decision_function"}[kinds[0]]
        scores = np.asarray(getattr(model, method)(original_input), dtype=np.float64)
        worst = _scaled(np.asarray(answer[kinds[0]], dtype=np.float64).reshape(scores.shape), scores)
    got, expected = np.asarray(answer["predictions"]).astype(str), np.asarray(model.predict(original_input)).astype(str).ravel()
    decided = _decided(scores, len(expected))
    if (got[decided] != expected[decided]).any():
        worst = math.inf
    return worst, " + ".join(["label", *kinds])


def _decided(scores, n: int) -> np.ndarray:
    if scores is None:
        return np.ones(n, dtype=bool)
    if scores.ndim == 1:
        return np.abs(scores) > TOLERANCE
    top2 = np.sort(scores, axis=1)[:, -2:]
    return (top2[:, 1] - top2[:, 0]) > TOLERANCE


def _scaled(got: np.ndarray, expected: np.ndarray) -> float:
    return float((np.abs(got - expected) / np.maximum(1.0, np.abs(expected))).max())


def bucket(worst: float) -> str:
    """The measured difference as a decade: stable across machines, still says how close."""
    if worst == 0:
        return "exact"
    return f"≤ 1e{math.ceil(math.log10(worst))}"


def _reason(message: str) -> str:
    """A refusal's reason for the table: the converter's line without the row values it quotes."""
    message = re.sub(r" \(worst row: [^)]*\)", "", message)
    message = re.sub(r"max abs diff [0-9.e+-]+ > tolerance", "differences above the tolerance", message)
    return message.replace("|", "\\|")


def render(rows: list[Row]) -> str:
    lines = [
        "| model | family | served | inputs, parity on fresh rows / reason refused |",
        "|---|---|---|---|",
    ]
    return "\n".join(lines + [row.markdown() for row in rows])


def page_table(text: str | None = None) -> str:
    text = TABLE_PAGE.read_text() if text is None else text
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip()


def write_page(table: str) -> None:
    text = TABLE_PAGE.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    TABLE_PAGE.write_text(text[:start] + "\n" + table + "\n" + text[end:])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.convert.coverage", description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the coverage table in docs/coverage.md")
    args = parser.parse_args()
    rows = []
    for name in CASES:
        rows.append(measure(name))
        print(rows[-1].markdown(), file=sys.stderr)
    table = render(rows)
    if args.write:
        write_page(table)
    print(table)


if __name__ == "__main__":
    main()

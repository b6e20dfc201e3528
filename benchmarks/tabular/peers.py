"""The peers the issue names, each with its library's defaults: LightGBM, scikit-learn's
HistGradientBoosting and a linear model (logistic regression or ridge) behind the usual
preprocessing Pipeline (median imputation and standard scaling of numbers, the most
frequent level and one-hot encoding of text).

The only settings given are those that change no model: LightGBM's ``verbose=-1``
(its log), HistGradientBoosting's ``random_state=0`` (the seed of the validation split
its early stopping draws on 10,000 rows or more, so a rerun scores the same), and the
logistic regression's ``max_iter=1000`` (the default 100 stops before convergence on
unscaled-looking sets such as digits and warns).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

PEERS = ("lightgbm", "hist_gb", "linear")
LABELS = {
    "lightgbm": "LightGBM (defaults)",
    "hist_gb": "HistGradientBoosting (defaults)",
    "linear": "linear (LogisticRegression / Ridge)",
}


def linear(x: pd.DataFrame, classifier: bool) -> Pipeline:
    text = [c for c in x.columns if isinstance(x[c].dtype, pd.CategoricalDtype)]
    numbers = [c for c in x.columns if c not in text]
    prepare = ColumnTransformer(
        [
            ("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numbers),
            (
                "text",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                text,
            ),
        ]
    )
    head = LogisticRegression(max_iter=1000) if classifier else Ridge()
    return Pipeline([("prepare", prepare), ("model", head)])


def make(name: str, x: pd.DataFrame, classifier: bool) -> Any:
    if name == "lightgbm":
        return LGBMClassifier(verbose=-1) if classifier else LGBMRegressor(verbose=-1)
    if name == "hist_gb":
        if classifier:
            return HistGradientBoostingClassifier(random_state=0)
        return HistGradientBoostingRegressor(random_state=0)
    if name == "linear":
        return linear(x, classifier)
    raise KeyError(f"unknown peer {name!r}; known: {', '.join(PEERS)}")

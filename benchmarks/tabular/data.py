"""The benchmark's data: public tables that ship inside PyPI packages augury or its
bench extra already installs (nothing is downloaded at run time), and the one seeded
70/30 split every model is trained and scored on.

Each set is read as augury would read an uploaded file: text columns stay text,
missing values stay missing, a date column is a datetime. What the peers need on top
(pandas ``category`` dtype for text, dates as numbers) is :func:`for_peers`, applied to
both halves alike. Files are found with ``importlib.util.find_spec``, which locates a
package without importing it (plotnine's import alone would pull in matplotlib).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets as skd
from sklearn.model_selection import train_test_split

TEST_SIZE = 0.3
SEED = 0


@dataclass(frozen=True)
class Table:
    """One benchmark set: the frame (features and target), what kind of task it is and
    which augury application trains it; ``positive`` is the class scored for ROC AUC and
    F1 on a binary set (the rare or sought one)."""

    name: str
    frame: pd.DataFrame
    target: str
    task: str  # "binary" | "multiclass" | "regression"
    application: str  # augury's: classification | failure | regression
    source: str
    positive: object = None


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name!r} is not installed: `make bench-tabular` installs it")
    return Path(next(iter(spec.submodule_search_locations)))


def _sk(loader: Callable[..., object], target: str) -> pd.DataFrame:
    bunch = loader(as_frame=True)
    frame = bunch.frame.copy()  # type: ignore[attr-defined]
    return frame.rename(columns={"target": target})


def breast_cancer() -> Table:
    frame = _sk(skd.load_breast_cancer, "diagnosis")
    # scikit-learn codes malignant 0 and benign 1; the tumour to find is the malignant one.
    frame["diagnosis"] = np.where(frame["diagnosis"] == 0, "malignant", "benign")
    return Table(
        "breast_cancer", frame, "diagnosis", "binary", "classification",
        "scikit-learn load_breast_cancer", "malignant",
    )  # fmt: skip


def wine() -> Table:
    frame = _sk(skd.load_wine, "cultivar")
    frame["cultivar"] = "class_" + frame["cultivar"].astype(str)
    return Table(
        "wine", frame, "cultivar", "multiclass", "classification", "scikit-learn load_wine"
    )


def digits() -> Table:
    frame = _sk(skd.load_digits, "digit")
    frame["digit"] = frame["digit"].astype(str)
    return Table(
        "digits", frame, "digit", "multiclass", "classification", "scikit-learn load_digits"
    )


def diabetes() -> Table:
    bunch = skd.load_diabetes(as_frame=True, scaled=False)
    frame = bunch.frame.rename(columns={"target": "progression"})
    return Table(
        "diabetes", frame, "progression", "regression", "regression",
        "scikit-learn load_diabetes (unscaled)",
    )  # fmt: skip


def shuttle() -> Table:
    """Statlog Shuttle as in the ODDS outlier collection (river ships it): 49,097 rows, 9
    sensor readings; 7.2 % anomalies (every class but 'Rad Flow' and the two smallest)."""
    frame = pd.read_csv(package_dir("river") / "datasets" / "shuttle.csv.gz")
    return Table(
        "shuttle", frame, "anomaly", "binary", "failure",
        "river datasets/shuttle.csv.gz (ODDS Shuttle)", 1,
    )  # fmt: skip


def solar_flare() -> Table:
    """UCI Solar Flare (river ships it): 1,066 sunspot groups described by three letter
    codes and seven small integers; the positive class is a group that produced an
    M-class flare in the next 24 hours (3.4 %), as imbalanced-learn's ``solar_flare_m0``.
    The C- and X-class counts are other targets of the same record and are left out."""
    raw = pd.read_csv(package_dir("river") / "datasets" / "solar-flare.csv.zip")
    frame = raw.drop(columns=["c-class-flares", "m-class-flares", "x-class-flares"])
    frame["m_flare"] = (raw["m-class-flares"] > 0).astype(int)
    return Table(
        "solar_flare", frame, "m_flare", "binary", "failure",
        "river datasets/solar-flare.csv.zip (UCI Solar Flare)", 1,
    )  # fmt: skip


def seattle_weather() -> Table:
    """Four years of daily Seattle weather (vega_datasets): the day's weather (5 classes,
    snow 1.6 %) from precipitation, temperatures, wind and the date."""
    frame = pd.read_csv(package_dir("vega_datasets") / "_data" / "seattle-weather.csv")
    frame["date"] = pd.to_datetime(frame["date"], format="%Y/%m/%d")
    return Table(
        "seattle_weather", frame, "weather", "multiclass", "classification",
        "vega_datasets seattle-weather.csv",
    )  # fmt: skip


def cars() -> Table:
    """Auto MPG (vega_datasets): miles per gallon from the engine, weight, model year and
    the origin (text); 6 horsepower values missing. The car's name, a free-text label
    nearly unique per row, is left out; the 8 rows without a target are dropped."""
    raw = pd.read_json(package_dir("vega_datasets") / "_data" / "cars.json")
    frame = raw.drop(columns=["Name"]).dropna(subset=["Miles_per_Gallon"])
    frame["Year"] = pd.to_datetime(frame["Year"]).dt.year
    return Table(
        "cars", frame.reset_index(drop=True), "Miles_per_Gallon", "regression", "regression",
        "vega_datasets cars.json (Auto MPG)",
    )  # fmt: skip


def txhousing() -> Table:
    """Texas housing sales per city and month, 2000-2015 (plotnine ships it): the median
    sale price from the city (46 names), the month, sales, volume, listings and inventory,
    with missing values in every measure; the 616 rows without a median are dropped."""
    raw = pd.read_csv(package_dir("plotnine") / "data" / "txhousing.csv")
    frame = raw.dropna(subset=["median"]).reset_index(drop=True)
    return Table(
        "txhousing", frame, "median", "regression", "regression",
        "plotnine data/txhousing.csv (ggplot2's txhousing)",
    )  # fmt: skip


def diamonds() -> Table:
    """53,940 diamonds (plotnine ships ggplot2's): the price from carat, cut, colour,
    clarity (text grades) and the stone's dimensions."""
    frame = pd.read_csv(package_dir("plotnine") / "data" / "diamonds.csv")
    return Table(
        "diamonds", frame, "price", "regression", "regression",
        "plotnine data/diamonds.csv (ggplot2's diamonds)",
    )  # fmt: skip


TABLES: dict[str, Callable[[], Table]] = {
    "breast_cancer": breast_cancer,
    "shuttle": shuttle,
    "solar_flare": solar_flare,
    "wine": wine,
    "digits": digits,
    "seattle_weather": seattle_weather,
    "diabetes": diabetes,
    "cars": cars,
    "txhousing": txhousing,
    "diamonds": diamonds,
}
"""Every set, in the order of the report: binary, multiclass, regression."""


def load(name: str) -> Table:
    if name not in TABLES:
        raise KeyError(f"unknown data set {name!r}; known: {', '.join(TABLES)}")
    return TABLES[name]()


def split(table: Table, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fixed 70/30 split: seeded, stratified on the target for classification."""
    y = table.frame[table.target]
    stratify = y if table.task != "regression" else None
    train, test = train_test_split(
        table.frame, test_size=TEST_SIZE, random_state=seed, stratify=stratify
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def text_columns(frame: pd.DataFrame) -> int:
    """How many columns hold text (neither numbers, booleans nor dates)."""
    return sum(
        not pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_datetime64_any_dtype(frame[c])
        for c in frame.columns
    )


def for_peers(
    train: pd.DataFrame, test: pd.DataFrame, target: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The features as the peers take them: text columns as pandas ``category`` with the
    training half's levels (LightGBM and HistGradientBoosting split on them natively; a
    level unseen in training becomes missing), datetimes as days since 1970."""
    x_train, x_test = train.drop(columns=[target]), test.drop(columns=[target])
    for column in x_train.columns:
        values = x_train[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            for x in (x_train, x_test):
                x[column] = (x[column] - pd.Timestamp("1970-01-01")).dt.days.astype(float)
        elif not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            levels = sorted(values.dropna().astype(str).unique())
            for x in (x_train, x_test):
                x[column] = pd.Categorical(x[column].astype("string"), categories=levels)
    return x_train, x_test

"""Key drivers: which columns move a target, how much, which way, and how sure.

"What drives sales?" names a target column; :func:`key_drivers` ranks every other
usable column by its measured influence on it:

* ``correlation``: Pearson's r for a number against a number, the correlation ratio
  eta or Cramér's V where a side is categorical (:mod:`._drivers_stats` has the table);
* ``mutual_information``: scikit-learn's estimate, in nats, which also sees
  relationships that are not straight lines;
* ``importance``: how much a cross-validated LightGBM model's held-out R² or balanced
  accuracy drops when the column is shuffled; the ranking follows it, and ``impact``
  (High / Medium / Low) is its share of all the columns' importance, ``confidence`` the
  fraction of bootstrap resamples that give the same impact (:mod:`._drivers_model`
  has the thresholds and the exact rules);
* ``direction`` (numbers only): ``"up"`` when the target rises with the column,
  ``"down"`` when it falls, from the sign of the correlation where ``|r| >=``
  :data:`DIRECTION_R` (for two classes: the chance of the last class in sort order,
  ``"yes"`` over ``"no"``, ``True`` over ``False``, ``1`` over ``0``); ``None``
  otherwise.

Which columns are used and why the others are not (identifiers, constant columns, free
text; dates become year, month, weekday and hour features) is in
:mod:`._drivers_prep`; the skipped ones come back in ``Drivers.skipped``. A frame with
more than :data:`MAX_FEATURES` features keeps those with the strongest correlation
(the others are skipped as ``"screened out"``), so 500 columns cost what 60 do.

The insights and recommendations are sentences built from these numbers only: which
column carries the model, its correlation and share, which columns barely count.
They never suggest what to do beyond which column to look at.

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> frame = pd.DataFrame({"spend": rng.normal(size=300), "noise": rng.normal(size=300)})
>>> frame["sales"] = 3 * frame["spend"] + rng.normal(scale=0.5, size=300)
>>> result = key_drivers(frame, "sales", {}, resamples=5)
>>> result.task, [(d.factor, d.direction, d.impact) for d in result.drivers]
('regression', [('spend', 'up', 'High'), ('noise', None, 'Low')])
>>> print(result.insights[0])
sales rises with spend (r = 0.98); spend carries 100% of the model's importance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from augury.engines.tabular._query_exec import Limits, session, source_sql
from augury.engines.tabular.columns import (
    ColumnSpec,
    logical_expr,
    quote_ident,
    quote_literal,
    view_sql,
)

from ._drivers_model import TIERS, Fitted, fit
from ._drivers_prep import Feature, Prepared, Target, prepare
from ._drivers_stats import correlation, mutual_information

__all__ = [
    "COLUMN_CHUNK",
    "DIRECTION_R",
    "MAX_FEATURES",
    "Driver",
    "Drivers",
    "frame_of",
    "key_drivers",
]

MAX_FEATURES = 60
"""The most features the model is fitted on; the rest are screened out by correlation."""

COLUMN_CHUNK = 64
"""The most columns :func:`frame_of` reads in one pass."""

DIRECTION_R = 0.1
"""The smallest ``|r|`` that gives a number's driver a direction."""

OVERLAP_R = 0.5
"""A Low driver correlated at least this much is named as related but redundant."""


@dataclass
class Driver:
    """One column's influence on the target (see the module's description)."""

    factor: str
    kind: str  # "numeric" | "categorical"
    correlation: float | None
    mutual_information: float
    importance: float
    importance_std: float
    direction: str | None  # "up" | "down" | None
    impact: str  # "High" | "Medium" | "Low"
    confidence: float


@dataclass
class Drivers:
    """The ranked drivers of ``target``, most important first, and what they say.

    ``model_score`` is the out-of-fold R² (regression) or balanced accuracy
    (classification); ``skipped`` maps each column left out to why.
    """

    target: str
    task: str  # "regression" | "classification"
    drivers: list[Driver]
    insights: list[str]
    recommendations: list[str]
    model_score: float
    rows_used: int
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def frame_of(
    path: Path,
    specs: list[ColumnSpec],
    max_rows: int = 20_000,
    seed: int = 0,
    *,
    limits: Limits = Limits(),
) -> pd.DataFrame:
    """A uniform sample of at most ``max_rows`` rows of the dataset at ``path``, read
    through its logical types (a ``"31/12/2024"`` text column arrives as a date).

    The sample is drawn from the stored rows before the types are applied (DuckDB's
    reservoir sampling, repeatable with ``seed``), so only the kept rows are parsed and
    memory holds ``max_rows`` rows whatever the file's length. A file wider than
    :data:`COLUMN_CHUNK` columns is read a chunk of columns at a time (DuckDB buffers a
    row group of every column it reads: 500 columns of 100,000 numbers overflow 512 MB):
    the sampled row numbers first, then each chunk's values at those rows.
    """
    if len(specs) <= COLUMN_CHUNK:
        sample = (
            f"(SELECT * FROM {source_sql(path)} "
            f"USING SAMPLE reservoir({int(max_rows)} ROWS) REPEATABLE ({int(seed)})) AS sample"
        )
        with session(limits, error_code="QUERY_FAILED") as con:
            return con.execute(view_sql(sample, specs)).df()
    source = f"read_parquet({quote_literal(str(path))}, file_row_number = true)"
    with session(limits, error_code="QUERY_FAILED") as con:
        con.execute(
            f"CREATE TEMP TABLE picked AS SELECT file_row_number AS row FROM {source} "
            f"USING SAMPLE reservoir({int(max_rows)} ROWS) REPEATABLE ({int(seed)})"
        )
        parts = []
        for i in range(0, len(specs), COLUMN_CHUNK):
            chunk = specs[i : i + COLUMN_CHUNK]
            exprs = ", ".join(f"{logical_expr(c)} AS {quote_ident(c.name)}" for c in chunk)
            parts.append(
                con.execute(
                    f"SELECT {exprs} FROM {source} WHERE file_row_number IN "
                    "(SELECT row FROM picked) ORDER BY file_row_number"
                ).df()
            )
    return pd.concat(parts, axis=1)


def key_drivers(
    frame: pd.DataFrame,
    target: str,
    types: dict[str, str],
    *,
    seed: int = 0,
    max_rows: int = 20_000,
    folds: int = 3,
    resamples: int = 20,
) -> Drivers:
    """Rank the columns of ``frame`` by their influence on ``target``.

    ``types`` maps column names to logical types (a column missing from it is typed
    from its dtype); a number is a regression target, unless it is an integer with two
    values; text, categories and booleans are classification targets. At most
    ``max_rows`` rows with a target value are used (a sample drawn with ``seed``).
    Raises :class:`~augury.engines.tabular.errors.TableError` ``INVALID_TARGET`` (no such
    column, one value, a date, too many classes) or ``NOT_ENOUGH_ROWS``.
    """
    folds = max(2, int(folds))
    prepared = prepare(frame, target, types, seed=seed, max_rows=max_rows, folds=folds)
    features, corrs = _screen(prepared)
    rows = int(prepared.target.y.shape[0])
    if not features:
        return Drivers(
            target,
            prepared.target.task,
            [],
            [f"No column of the data can explain {target}: every one was skipped."],
            [],
            0.0,
            rows,
            prepared.skipped,
        )
    mi = mutual_information(features, prepared.target, seed=seed)
    fitted = fit(features, prepared.target, folds=folds, seed=seed, resamples=resamples)
    drivers = _drivers(features, corrs, mi, fitted, prepared)
    order = sorted(range(len(drivers)), key=lambda i: (-fitted.importance[i], -mi[i], i))
    ranked = [drivers[i] for i in order]
    shares = {drivers[i].factor: float(fitted.share[i]) for i in order}
    return Drivers(
        target=target,
        task=prepared.target.task,
        drivers=ranked,
        insights=_insights(prepared, ranked, shares, fitted.score, folds),
        recommendations=_recommendations(ranked, shares),
        model_score=round(fitted.score, 4),
        rows_used=rows,
        skipped=prepared.skipped,
    )


def _screen(prepared: Prepared) -> tuple[list[Feature], list[float | None]]:
    """The features the model sees (the :data:`MAX_FEATURES` most correlated ones) and
    their correlations; those screened out join ``prepared.skipped``."""
    corrs = [correlation(f, prepared.target) for f in prepared.features]
    if len(prepared.features) <= MAX_FEATURES:
        return prepared.features, corrs
    strength = [abs(c) if c is not None else 0.0 for c in corrs]
    keep = sorted(int(i) for i in np.argsort(strength, kind="stable")[::-1][:MAX_FEATURES])
    kept = {prepared.features[i].column for i in keep}
    for feature in prepared.features:
        if feature.column not in kept:
            prepared.skipped.setdefault(feature.column, "screened out")
    return [prepared.features[i] for i in keep], [corrs[i] for i in keep]


def _drivers(
    features: list[Feature],
    corrs: list[float | None],
    mi: np.ndarray,
    fitted: Fitted,
    prepared: Prepared,
) -> list[Driver]:
    signed = prepared.target.task == "regression" or len(prepared.target.classes) == 2
    made = []
    for i, feature in enumerate(features):
        r = corrs[i]
        direction = None
        if feature.kind == "numeric" and signed and r is not None and abs(r) >= DIRECTION_R:
            direction = "up" if r > 0 else "down"
        made.append(
            Driver(
                factor=feature.name,
                kind=feature.kind,
                correlation=None if r is None else round(r, 4),
                mutual_information=round(float(mi[i]), 4),
                importance=round(float(fitted.importance[i]), 4),
                importance_std=round(float(fitted.importance_std[i]), 4),
                direction=direction,
                impact=TIERS[int(fitted.tier[i])],
                confidence=round(float(fitted.confidence[i]), 2),
            )
        )
    return made


def _insights(
    prepared: Prepared,
    ranked: list[Driver],
    shares: dict[str, float],
    score: float,
    folds: int,
) -> list[str]:
    target = prepared.target
    name = target.name
    if target.task == "regression":
        fit_words = f"R² = {score:.2f}"
    else:
        chance = 1 / len(target.classes)
        fit_words = f"balanced accuracy {score:.2f}, chance {chance:.2f}"
    strong = [d for d in ranked if d.impact != "Low"]
    if not strong:
        return [
            f"No column predicts {name} on held-out rows ({fit_words}, {folds}-fold "
            "cross-validation): no driver stands out."
        ]
    said = [_relation(name, d, shares[d.factor], prepared) for d in strong[:2]]
    said.append(f"The model predicts {name} with {fit_words} ({folds}-fold cross-validation).")
    overlap = [
        d
        for d in ranked
        if d.impact == "Low" and d.correlation is not None and abs(d.correlation) >= OVERLAP_R
    ]
    if overlap:
        listed = _listing(
            [f"{d.factor} ({_symbol(d, target)} = {d.correlation:.2f})" for d in overlap]
        )
        said.append(
            f"{listed} {'go' if len(overlap) > 1 else 'goes'} with {name} but "
            f"{'add' if len(overlap) > 1 else 'adds'} little once the other columns are known "
            "(impact Low)."
        )
    weak = [
        d.factor for d in ranked if d.impact == "Low" and d.importance <= 0.01 and d not in overlap
    ]
    if weak:
        if len(weak) == 1:
            said.append(f"{weak[0]} barely counts: shuffling it changes the score by at most 0.01.")
        else:
            said.append(
                f"{_listing(weak)} barely count: shuffling any of them changes the score by "
                "at most 0.01."
            )
    return said


def _listing(items: list[str], most: int = 5) -> str:
    """ "a, b and c"; past ``most`` items "a, b, c, d, e and 7 more"."""
    if len(items) > most:
        return ", ".join(items[:most]) + f" and {len(items) - most} more"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _symbol(driver: Driver, target: Target) -> str:
    """The correlation's symbol for this pair (see :mod:`._drivers_stats`)."""
    if driver.kind == "categorical":
        return "η" if target.task == "regression" else "V"
    return "r" if target.task == "regression" or len(target.classes) == 2 else "η"


def _relation(name: str, driver: Driver, share: float, prepared: Prepared) -> str:
    """One sentence: how the target follows the driver, and its share of importance."""
    carries = f"{driver.factor} carries {share:.0%} of the model's importance."
    r = driver.correlation
    if driver.direction is not None and r is not None:
        verb = "rises" if driver.direction == "up" else "falls"
        if prepared.target.task == "classification":
            last = prepared.target.classes[-1]
            return (
                f"{name} = {last} is more likely as {driver.factor} {verb} (r = {r:.2f}); {carries}"
            )
        return f"{name} {verb} with {driver.factor} (r = {r:.2f}); {carries}"
    if r is None:
        return carries
    measure = f"{_symbol(driver, prepared.target)} = {r:.2f}"
    if driver.kind == "categorical" and prepared.target.task == "regression":
        extremes = _group_extremes(driver.factor, prepared)
        return f"{name} differs by {driver.factor} ({measure}{extremes}); {carries}"
    return f"{name} differs with {driver.factor} ({measure}); {carries}"


def _group_extremes(factor: str, prepared: Prepared) -> str:
    """ ", highest for A (mean 5.1), lowest for B (mean 3.2)" for a categorical driver."""
    feature = next(f for f in prepared.features if f.name == factor)
    codes = feature.values.astype(np.int64)
    y = prepared.target.y
    keep = np.isfinite(y)
    sizes = np.bincount(codes[keep], minlength=len(feature.levels))
    sums = np.bincount(codes[keep], weights=y[keep], minlength=len(feature.levels))
    present = np.flatnonzero(sizes > 0)
    if present.size < 2:
        return ""
    means = sums[present] / sizes[present]
    hi, lo = present[np.argmax(means)], present[np.argmin(means)]
    return (
        f"; highest for {feature.levels[hi]} (mean {_number(means.max())}),"
        f" lowest for {feature.levels[lo]} (mean {_number(means.min())})"
    )


def _recommendations(ranked: list[Driver], shares: dict[str, float]) -> list[str]:
    strong = [d for d in ranked if d.impact != "Low"]
    if not strong:
        return []
    first = strong[0]
    said = [
        f"Watch {first.factor} first: it carries {shares[first.factor]:.0%} of the model's "
        f"importance (impact {first.impact}, confidence {first.confidence:.2f})."
    ]
    if len(strong) > 1:
        rest = ", ".join(f"{d.factor} ({shares[d.factor]:.0%})" for d in strong[1:4])
        said.append(f"Then {rest}.")
    unsure = [d.factor for d in strong if d.confidence < 0.8]
    if unsure:
        said.append(
            f"The impact of {', '.join(unsure)} changes across resamples (confidence below "
            "0.80): confirm it on more rows before relying on it."
        )
    return said


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"

"""The generalisation question set: ``python -m benchmarks.ask.make_questions``.

Fifteen public data sets from the ``vega_datasets`` package (its local copies, no
network) are written to ``benchmarks/ask/data/<name>.csv``, and about 150 questions over
them to ``benchmarks/ask/questions/{tune,holdout}-<name>.jsonl``, in the format of the
dev set (``../shared/data/ask/dev-questions.jsonl``).

Each question's expected answer is computed here by a small pandas function over the
CSV as written and read back, never by augury, so the benchmark cannot agree with the
engine by construction. The functions ask for one unambiguous reading: a superlative or
a top N whose winners tie is refused when the files are made, so a question never has
two right answers.

The split is by data set: the parser may be tuned on the ``tune-*`` questions; the
``holdout-*`` questions (other data sets) are only measured.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
QUESTIONS = HERE / "questions"
MAX_DATA_BYTES = 2_000_000

TUNE = ("cars", "seattle_weather", "stocks", "iowa_electricity", "la_riots", "wheat")
HOLDOUT = (
    "airports",
    "us_employment",
    "sf_temps",
    "seattle_temps",
    "driving",
    "crimea",
    "burtin",
    "anscombe",
    "ohlc",
)
DATE_COLUMNS = {
    "cars": ["Year"],
    "seattle_weather": ["date"],
    "stocks": ["date"],
    "iowa_electricity": ["year"],
    "la_riots": ["death_date"],
    "us_employment": ["month"],
    "sf_temps": ["date"],
    "seattle_temps": ["date"],
    "crimea": ["date"],
    "ohlc": ["date"],
}
"""The columns read back as dates, as a person would read them."""

Expected = dict[str, Any]


@dataclass(frozen=True)
class Q:
    """A question, the pandas function that answers it, and the chart it calls for."""

    question: str
    answer: Callable[[pd.DataFrame], Expected]
    chart: str | None = None


# ---- expected answers ---------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A pandas or numpy value as JSON: numbers as floats, labels as text."""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        raise TypeError("a boolean answer is not scored")
    if isinstance(value, int | float):
        if value != value:
            raise ValueError("an expected number is NaN")
        return float(value)
    return str(value)


def _key(value: Any, dates: str | None) -> list[Any]:
    """A group's key with its alternatives: a year bucket is ``2014`` or its first day."""
    if isinstance(value, pd.Period):
        value = value.to_timestamp()
    if isinstance(value, pd.Timestamp):
        day = value.strftime("%Y-%m-%d")
        if dates == "year":
            return [value.strftime("%Y"), day]
        if dates == "month":
            return [value.strftime("%Y-%m"), day]
        return [day]
    if dates == "year":  # a year held as a number: 1956 or 1956-01-01
        return [str(int(value)), f"{int(value)}-01-01"]
    if hasattr(value, "item"):
        value = value.item()
    return [value]


def scalar(value: Any, dates: str | None = None) -> Expected:
    if dates is not None:
        return {"kind": "scalar", "value": _key(value, dates)}
    return {"kind": "scalar", "value": _plain(value)}


def table(series: pd.Series, dates: str | None = None) -> Expected:
    """A grouped result (one value per index entry) as expected rows."""
    rows = []
    for index, value in series.items():
        keys = index if isinstance(index, tuple) else (index,)
        rows.append([_key(k, dates) for k in keys] + [_plain(value)])
    return {"kind": "table", "rows": rows}


def top(series: pd.Series, n: int, ascending: bool = False) -> pd.Series:
    """The first ``n`` groups, refusing a tie across the cut."""
    ordered = series.dropna().sort_values(ascending=ascending)
    if len(ordered) > n and ordered.iloc[n - 1] == ordered.iloc[n]:
        raise ValueError(f"top {n} is a tie: {ordered.iloc[n - 1 : n + 1].to_dict()}")
    return ordered.head(n)


def argmax(series: pd.Series) -> Any:
    return top(series, 1).index[0]


def argmin(series: pd.Series) -> Any:
    return top(series, 1, ascending=True).index[0]


def by_month(d: pd.DataFrame, column: str) -> pd.Series:
    return d[column].dt.to_period("M")


def by_year(d: pd.DataFrame, column: str) -> pd.Series:
    return d[column].dt.to_period("Y")


def in_year(d: pd.DataFrame, column: str, year: int) -> pd.DataFrame:
    return d[d[column].dt.year == year]


def in_month(d: pd.DataFrame, column: str, year: int, month: int) -> pd.DataFrame:
    return d[(d[column].dt.year == year) & (d[column].dt.month == month)]


# ---- the questions ------------------------------------------------------------------

T, S = table, scalar

CARS = [
    Q(
        "average miles per gallon by origin",
        lambda d: T(d.groupby("Origin").Miles_per_Gallon.mean()),
        "bar",
    ),
    Q("How many cars are there?", lambda d: S(len(d))),
    Q("How many cars have more than 6 cylinders?", lambda d: S((d.Cylinders > 6).sum())),
    Q(
        "Which origin has the highest average horsepower?",
        lambda d: S(argmax(d.groupby("Origin").Horsepower.mean())),
    ),
    Q(
        "top 2 origins by average weight",
        lambda d: T(top(d.groupby("Origin").Weight_in_lbs.mean(), 2)),
        "bar",
    ),
    Q(
        "average weight per year",
        lambda d: T(d.groupby(by_year(d, "Year")).Weight_in_lbs.mean(), "year"),
        "line",
    ),
    Q(
        "median horsepower for cars from Japan",
        lambda d: S(d[d.Origin == "Japan"].Horsepower.median()),
    ),
    Q(
        "correlation between weight and miles per gallon",
        lambda d: S(d.Weight_in_lbs.corr(d.Miles_per_Gallon)),
    ),
    Q(
        "minimum acceleration of cars from Europe",
        lambda d: S(d[d.Origin == "Europe"].Acceleration.min()),
    ),
    Q("How many different car names are there?", lambda d: S(d.Name.nunique())),
    Q(
        "How many cars from the USA have 6 cylinders?",
        lambda d: S(((d.Origin == "USA") & (d.Cylinders == 6)).sum()),
    ),
    Q("count of cars by number of cylinders", lambda d: T(d.groupby("Cylinders").size()), "bar"),
    Q("What is the largest displacement?", lambda d: S(d.Displacement.max())),
    Q(
        "Average horsepower of cars made after 1980",
        lambda d: S(d[d.Year.dt.year > 1980].Horsepower.mean()),
    ),
    Q(
        "total weight of cars with 4 cylinders",
        lambda d: S(d[d.Cylinders == 4].Weight_in_lbs.sum()),
    ),
    Q(
        "How many cars with 4 cylinders get more than 35 miles per gallon?",
        lambda d: S(((d.Cylinders == 4) & (d.Miles_per_Gallon > 35)).sum()),
    ),
    Q("What is the standard deviation of acceleration?", lambda d: S(d.Acceleration.std())),
]

SEATTLE_WEATHER = [
    Q("how many days had precipitation above 20?", lambda d: S((d.precipitation > 20).sum())),
    Q(
        "monthly average max temperature in 2014",
        lambda d: T(
            (lambda y: y.groupby(by_month(y, "date")).temp_max.mean())(in_year(d, "date", 2014)),
            "month",
        ),
        "line",
    ),
    Q("Average wind by weather type", lambda d: T(d.groupby("weather").wind.mean()), "bar"),
    Q("What is the most common weather?", lambda d: S(argmax(d.groupby("weather").size()))),
    Q(
        "Total precipitation per year",
        lambda d: T(d.groupby(by_year(d, "date")).precipitation.sum(), "year"),
        "line",
    ),
    Q("Count of days where the weather was snow", lambda d: S((d.weather == "snow").sum())),
    Q("Highest maximum temperature", lambda d: S(d.temp_max.max())),
    Q("median wind in 2013", lambda d: S(in_year(d, "date", 2013).wind.median())),
    Q("correlation between wind and precipitation", lambda d: S(d.wind.corr(d.precipitation))),
    Q(
        "lowest minimum temperature on snow days",
        lambda d: S(d[d.weather == "snow"].temp_min.min()),
    ),
    Q(
        "average precipitation per month in 2015",
        lambda d: T(
            (lambda y: y.groupby(by_month(y, "date")).precipitation.mean())(
                in_year(d, "date", 2015)
            ),
            "month",
        ),
        "line",
    ),
    Q(
        "How many days in 2012 had a max temperature above 30?",
        lambda d: S((in_year(d, "date", 2012).temp_max > 30).sum()),
    ),
    Q(
        "Top 3 weather types by average precipitation",
        lambda d: T(top(d.groupby("weather").precipitation.mean(), 3)),
        "bar",
    ),
    Q("number of distinct weather types", lambda d: S(d.weather.nunique())),
    Q(
        "What is the trend of average wind per year?",
        lambda d: T(d.groupby(by_year(d, "date")).wind.mean(), "year"),
        "line",
    ),
    Q(
        "How many fog days were there in 2015?",
        lambda d: S((in_year(d, "date", 2015).weather == "fog").sum()),
    ),
]

STOCKS = [
    Q("Average price by symbol", lambda d: T(d.groupby("symbol").price.mean()), "bar"),
    Q(
        "Which symbol had the highest average price?",
        lambda d: S(argmax(d.groupby("symbol").price.mean())),
    ),
    Q("Maximum price of AAPL", lambda d: S(d[d.symbol == "AAPL"].price.max())),
    Q(
        "average AAPL price per year",
        lambda d: T(
            (lambda a: a.groupby(by_year(a, "date")).price.mean())(d[d.symbol == "AAPL"]), "year"
        ),
        "line",
    ),
    Q("How many records have a price above 100?", lambda d: S((d.price > 100).sum())),
    Q("number of distinct symbols", lambda d: S(d.symbol.nunique())),
    Q(
        "median price of IBM in 2005",
        lambda d: S(in_year(d[d.symbol == "IBM"], "date", 2005).price.median()),
    ),
    Q(
        "top 2 symbols by maximum price",
        lambda d: T(top(d.groupby("symbol").price.max(), 2)),
        "bar",
    ),
    Q("What was the lowest price of GOOG?", lambda d: S(d[d.symbol == "GOOG"].price.min())),
    Q(
        "average MSFT price in 2008",
        lambda d: S(in_year(d[d.symbol == "MSFT"], "date", 2008).price.mean()),
    ),
    Q(
        "How many IBM prices are below 80?",
        lambda d: S(((d.symbol == "IBM") & (d.price < 80)).sum()),
    ),
    Q("standard deviation of the price of AAPL", lambda d: S(d[d.symbol == "AAPL"].price.std())),
]

IOWA_ELECTRICITY = [
    Q(
        "Total net generation by source",
        lambda d: T(d.groupby("source").net_generation.sum()),
        "bar",
    ),
    Q(
        "total net generation per year",
        lambda d: T(d.groupby(by_year(d, "year")).net_generation.sum(), "year"),
        "line",
    ),
    Q(
        "Which source has the highest total net generation?",
        lambda d: S(argmax(d.groupby("source").net_generation.sum())),
    ),
    Q(
        "net generation of renewables in 2017",
        lambda d: S(in_year(d[d.source == "Renewables"], "year", 2017).net_generation.sum()),
    ),
    Q(
        "Average net generation of nuclear energy",
        lambda d: S(d[d.source == "Nuclear Energy"].net_generation.mean()),
    ),
    Q(
        "Renewables net generation per year",
        lambda d: T(
            (lambda r: r.groupby(by_year(r, "year")).net_generation.sum())(
                d[d.source == "Renewables"]
            ),
            "year",
        ),
        "line",
    ),
    Q(
        "How many years had fossil fuels net generation above 35000?",
        lambda d: S(((d.source == "Fossil Fuels") & (d.net_generation > 35000)).sum()),
    ),
    Q(
        "maximum net generation of renewables",
        lambda d: S(d[d.source == "Renewables"].net_generation.max()),
    ),
]

LA_RIOTS = [
    Q("How many victims are listed?", lambda d: S(len(d))),
    Q("average age by race", lambda d: T(d.groupby("race").age.mean()), "bar"),
    Q("Number of victims by type", lambda d: T(d.groupby("type").size()), "bar"),
    Q("How many victims were female?", lambda d: S((d.gender == "Female").sum())),
    Q("median age of Latino victims", lambda d: S(d[d.race == "Latino"].age.median())),
    Q(
        "How many homicides had a Latino victim?",
        lambda d: S(((d.type == "Homicide") & (d.race == "Latino")).sum()),
    ),
    Q("How old was the oldest victim?", lambda d: S(d.age.max())),
    Q("number of distinct neighborhoods", lambda d: S(d.neighborhood.nunique())),
    Q(
        "number of victims per month",
        lambda d: T(d.groupby(by_month(d, "death_date")).size(), "month"),
        "line",
    ),
    Q(
        "average age of officer-involved shooting victims",
        lambda d: S(d[d.type == "Officer-involved shooting"].age.mean()),
    ),
]

WHEAT = [
    Q("average wheat price", lambda d: S(d.wheat.mean())),
    Q("correlation between wheat and wages", lambda d: S(d.wheat.corr(d.wages))),
    Q("What were the highest wages?", lambda d: S(d.wages.max())),
    Q("In which year were wages highest?", lambda d: S(argmax(d.set_index("year").wages), "year")),
    Q("How many years had wheat above 50?", lambda d: S((d.wheat > 50).sum())),
    Q("average wages after 1700", lambda d: S(d[d.year > 1700].wages.mean())),
    Q("minimum wheat price before 1600", lambda d: S(d[d.year < 1600].wheat.min())),
]

AIRPORTS = [
    Q("top 4 states by number of airports", lambda d: T(top(d.groupby("state").size(), 4)), "bar"),
    Q("How many airports are there?", lambda d: S(len(d))),
    Q("How many airports are in CA?", lambda d: S((d.state == "CA").sum())),
    Q("How many airports does Houston have?", lambda d: S((d.city == "Houston").sum())),
    Q("Which state has the most airports?", lambda d: S(argmax(d.groupby("state").size()))),
    Q("number of distinct cities", lambda d: S(d.city.nunique())),
    Q("average latitude of airports in TX", lambda d: S(d[d.state == "TX"].latitude.mean())),
    Q("Which airport has the highest latitude?", lambda d: S(argmax(d.set_index("name").latitude))),
    Q("How many airports are not in the USA?", lambda d: S((d.country != "USA").sum())),
    Q("How many distinct states are there?", lambda d: S(d.state.nunique())),
    Q("number of airports by country", lambda d: T(d.groupby("country").size()), "bar"),
    Q(
        "How many airports in FL have a latitude above 28?",
        lambda d: S(((d.state == "FL") & (d.latitude > 28)).sum()),
    ),
    Q("minimum longitude in AK", lambda d: S(d[d.state == "AK"].longitude.min())),
    Q("top 3 cities by number of airports", lambda d: T(top(d.groupby("city").size(), 3)), "bar"),
    Q("median latitude", lambda d: S(d.latitude.median())),
]

US_EMPLOYMENT = [
    Q(
        "average nonfarm employment per year",
        lambda d: T(d.groupby(by_year(d, "month")).nonfarm.mean(), "year"),
        "line",
    ),
    Q("total nonfarm change in 2009", lambda d: S(in_year(d, "month", 2009).nonfarm_change.sum())),
    Q(
        "Which month had the lowest nonfarm change?",
        lambda d: S(argmin(d.set_index("month").nonfarm_change), "month"),
    ),
    Q("maximum construction employment", lambda d: S(d.construction.max())),
    Q(
        "correlation between construction and manufacturing",
        lambda d: S(d.construction.corr(d.manufacturing)),
    ),
    Q(
        "average government employment in 2015",
        lambda d: S(in_year(d, "month", 2015).government.mean()),
    ),
    Q("How many months had a negative nonfarm change?", lambda d: S((d.nonfarm_change < 0).sum())),
    Q("median manufacturing employment", lambda d: S(d.manufacturing.median())),
    Q(
        "Trend of average private employment per year",
        lambda d: T(d.groupby(by_year(d, "month")).private.mean(), "year"),
        "line",
    ),
    Q("minimum information employment", lambda d: S(d.information.min())),
    Q("How many months had nonfarm change above 300?", lambda d: S((d.nonfarm_change > 300).sum())),
    Q(
        "average leisure and hospitality employment in 2010",
        lambda d: S(in_year(d, "month", 2010).leisure_and_hospitality.mean()),
    ),
    Q(
        "mining and logging per month in 2012",
        lambda d: T(
            (lambda y: y.groupby(by_month(y, "month")).mining_and_logging.sum())(
                in_year(d, "month", 2012)
            ),
            "month",
        ),
        "line",
    ),
]

SF_TEMPS = [
    Q(
        "monthly average temperature in 2010",
        lambda d: T(
            (lambda y: y.groupby(by_month(y, "date")).temp.mean())(in_year(d, "date", 2010)),
            "month",
        ),
        "line",
    ),
    Q("What is the highest temperature?", lambda d: S(d.temp.max())),
    Q("average temperature", lambda d: S(d.temp.mean())),
    Q("How many hours had a temperature above 70?", lambda d: S((d.temp > 70).sum())),
    Q("median temperature in July 2010", lambda d: S(in_month(d, "date", 2010, 7).temp.median())),
    Q("lowest temperature in January 2010", lambda d: S(in_month(d, "date", 2010, 1).temp.min())),
    Q(
        "daily average temperature in March 2010",
        lambda d: T(
            (lambda m: m.groupby(m.date.dt.to_period("D")).temp.mean())(
                in_month(d, "date", 2010, 3)
            ),
            "day",
        ),
        "line",
    ),
    Q(
        "Which month had the highest average temperature?",
        lambda d: S(argmax(d.groupby(by_month(d, "date")).temp.mean()), "month"),
    ),
    Q("standard deviation of temperature", lambda d: S(d.temp.std())),
]

SEATTLE_TEMPS = [
    Q(
        "average temperature per month",
        lambda d: T(d.groupby(by_month(d, "date")).temp.mean(), "month"),
        "line",
    ),
    Q("minimum temperature", lambda d: S(d.temp.min())),
    Q("How many hours were below 40 degrees?", lambda d: S((d.temp < 40).sum())),
    Q(
        "average temperature in December 2010",
        lambda d: S(in_month(d, "date", 2010, 12).temp.mean()),
    ),
    Q("What is the median temperature?", lambda d: S(d.temp.median())),
    Q("How many readings are above 70?", lambda d: S((d.temp > 70).sum())),
    Q(
        "Which month had the lowest average temperature?",
        lambda d: S(argmin(d.groupby(by_month(d, "date")).temp.mean()), "month"),
    ),
    Q("maximum temperature in August 2010", lambda d: S(in_month(d, "date", 2010, 8).temp.max())),
]

DRIVING = [
    Q("average gas by side", lambda d: T(d.groupby("side").gas.mean()), "bar"),
    Q(
        "miles driven per year",
        lambda d: T(d.set_index("year").miles.rename_axis(None), "year"),
        "line",
    ),
    Q("What is the maximum gas price?", lambda d: S(d.gas.max())),
    Q("In which year were miles highest?", lambda d: S(argmax(d.set_index("year").miles), "year")),
    Q("correlation between miles and gas", lambda d: S(d.miles.corr(d.gas))),
    Q("How many years had gas above 2.5?", lambda d: S((d.gas > 2.5).sum())),
    Q("average miles driven after 2000", lambda d: S(d[d.year > 2000].miles.mean())),
    Q(
        "minimum gas price between 1980 and 1989",
        lambda d: S(d[d.year.between(1980, 1989)].gas.min()),
    ),
]

CRIMEA = [
    Q("total disease deaths", lambda d: S(d.disease.sum())),
    Q(
        "disease deaths per year",
        lambda d: T(d.groupby(by_year(d, "date")).disease.sum(), "year"),
        "line",
    ),
    Q("Which month had the most wounds?", lambda d: S(argmax(d.set_index("date").wounds), "month")),
    Q("average wounds in 1855", lambda d: S(in_year(d, "date", 1855).wounds.mean())),
    Q("How many months had more than 1000 disease deaths?", lambda d: S((d.disease > 1000).sum())),
    Q("correlation between wounds and disease", lambda d: S(d.wounds.corr(d.disease))),
    Q("maximum other deaths", lambda d: S(d.other.max())),
    Q(
        "total wounds per year",
        lambda d: T(d.groupby(by_year(d, "date")).wounds.sum(), "year"),
        "line",
    ),
]

BURTIN = [
    Q(
        "average penicillin by gram staining",
        lambda d: T(d.groupby("Gram_Staining").Penicillin.mean()),
        "bar",
    ),
    Q("How many bacteria are gram positive?", lambda d: S((d.Gram_Staining == "positive").sum())),
    Q(
        "Which bacteria has the highest neomycin?",
        lambda d: S(argmax(d.set_index("Bacteria").Neomycin)),
    ),
    Q("number of bacteria by genus", lambda d: T(d.groupby("Genus").size()), "bar"),
    Q(
        "minimum streptomycin for gram negative bacteria",
        lambda d: S(d[d.Gram_Staining == "negative"].Streptomycin.min()),
    ),
    Q("median neomycin", lambda d: S(d.Neomycin.median())),
    Q("How many bacteria have penicillin above 100?", lambda d: S((d.Penicillin > 100).sum())),
    Q("number of different genus", lambda d: S(d.Genus.nunique())),
]

ANSCOMBE = [
    Q("average Y by series", lambda d: T(d.groupby("Series").Y.mean()), "bar"),
    Q("correlation between X and Y", lambda d: S(d.X.corr(d.Y))),
    Q(
        "correlation between X and Y for series IV",
        lambda d: S((lambda s: s.X.corr(s.Y))(d[d.Series == "IV"])),
    ),
    Q("maximum Y in series III", lambda d: S(d[d.Series == "III"].Y.max())),
    Q("How many points have X above 10?", lambda d: S((d.X > 10).sum())),
    Q("standard deviation of Y for series I", lambda d: S(d[d.Series == "I"].Y.std())),
    Q("median X", lambda d: S(d.X.median())),
]

OHLC = [
    Q("average closing price", lambda d: S(d.close.mean())),
    Q("What was the highest high?", lambda d: S(d.high.max())),
    Q("How many days had a short signal?", lambda d: S((d.signal == "short").sum())),
    Q("average return by signal", lambda d: T(d.groupby("signal").ret.mean()), "bar"),
    Q(
        "close per day in July 2009",
        lambda d: T(in_month(d, "date", 2009, 7).set_index("date").close.rename_axis(None), "day"),
        "line",
    ),
    Q("lowest low in June 2009", lambda d: S(in_month(d, "date", 2009, 6).low.min())),
    Q("Which day had the highest close?", lambda d: S(argmax(d.set_index("date").close), "day")),
    Q("How many days had a close above 30?", lambda d: S((d.close > 30).sum())),
    Q("correlation between open and close", lambda d: S(d.open.corr(d.close))),
    Q("median high for long signals", lambda d: S(d[d.signal == "long"].high.median())),
]

QUESTION_SETS: dict[str, list[Q]] = {
    "cars": CARS,
    "seattle_weather": SEATTLE_WEATHER,
    "stocks": STOCKS,
    "iowa_electricity": IOWA_ELECTRICITY,
    "la_riots": LA_RIOTS,
    "wheat": WHEAT,
    "airports": AIRPORTS,
    "us_employment": US_EMPLOYMENT,
    "sf_temps": SF_TEMPS,
    "seattle_temps": SEATTLE_TEMPS,
    "driving": DRIVING,
    "crimea": CRIMEA,
    "burtin": BURTIN,
    "anscombe": ANSCOMBE,
    "ohlc": OHLC,
}


# ---- writing ------------------------------------------------------------------------


def write_data(name: str) -> Path:
    """The data set as CSV (dates as ``YYYY-MM-DD``, with the time only where it has one)."""
    from vega_datasets import local_data

    frame = getattr(local_data, name)()
    path = DATA / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


def read_data(name: str) -> pd.DataFrame:
    """The CSV as the questions' functions see it: dates parsed, nothing else changed."""
    return pd.read_csv(DATA / f"{name}.csv", parse_dates=DATE_COLUMNS.get(name, []))


def records(name: str) -> list[dict[str, Any]]:
    frame = read_data(name)
    out = []
    for q in QUESTION_SETS[name]:
        expected = q.answer(frame)
        if expected is None:
            raise ValueError(f"{name}: {q.question!r} has no single answer")
        out.append(
            {"dataset": name, "question": q.question, "expected": expected, "chart": q.chart}
        )
    return out


def main() -> None:
    DATA.mkdir(exist_ok=True)
    QUESTIONS.mkdir(exist_ok=True)
    counts: dict[str, int] = {}
    for group, names in (("tune", TUNE), ("holdout", HOLDOUT)):
        for name in names:
            write_data(name)
            lines = [json.dumps(r) for r in records(name)]
            (QUESTIONS / f"{group}-{name}.jsonl").write_text("\n".join(lines) + "\n")
            counts[group] = counts.get(group, 0) + len(lines)
            print(f"{group:8} {name:18} {len(lines):3} questions")
    size = sum(p.stat().st_size for p in DATA.glob("*.csv"))
    if size > MAX_DATA_BYTES:
        raise SystemExit(f"the data sets take {size:,} bytes (at most {MAX_DATA_BYTES:,})")
    print(f"{counts} questions; data {size:,} bytes")


if __name__ == "__main__":
    main()

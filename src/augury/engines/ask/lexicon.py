"""The words the parser knows without looking at a dataset: general analytics English.

Nothing here names a dataset or a question. Column names and categorical values come
from the dataset (:mod:`.context`); this module says what *kinds* of words mean:
aggregates ("average", "how many"), comparisons ("above", "at least"), time buckets
("monthly", "per week"), superlatives and comparatives with the quantity they imply
("heaviest" is the highest weight), and concepts that different datasets spell
differently (a question's "weight" finds a column named ``body_mass_g``).

Words are compared after :func:`lemma` (a light plural stripper) on both sides, so
"varieties" meets ``variety`` and "islands" meets ``island``.

>>> lemma("varieties"), lemma("species"), lemma("boxes"), lemma("gas")
('variety', 'species', 'box', 'gas')
>>> concept("rainfall"), concept("mass"), concept("weight")
('precipitation', 'weight', 'weight')
>>> rewrite(["average", "miles", "per", "gallon"])
['average', 'mpg']
"""

from __future__ import annotations

import re

# Words that never name a column on their own.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "without",
        "per",
        "each",
        "every",
        "all",
        "any",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "done",
        "will",
        "would",
        "can",
        "could",
        "should",
        "shall",
        "may",
        "might",
        "must",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "that",
        "this",
        "these",
        "those",
        "there",
        "here",
        "it",
        "its",
        "their",
        "them",
        "they",
        "we",
        "our",
        "us",
        "you",
        "your",
        "i",
        "me",
        "my",
        "he",
        "she",
        "his",
        "her",
        "than",
        "then",
        "as",
        "into",
        "onto",
        "about",
        "over",
        "under",
        "between",
        "across",
        "among",
        "through",
        "during",
        "before",
        "after",
        "since",
        "until",
        "till",
        "up",
        "down",
        "out",
        "off",
        "again",
        "further",
        "once",
        "only",
        "own",
        "same",
        "so",
        "too",
        "very",
        "just",
        "also",
        "not",
        "no",
        "nor",
        "both",
        "either",
        "neither",
        "some",
        "such",
        "more",
        "most",
        "less",
        "least",
        "few",
        "fewer",
        "many",
        "much",
        "other",
        "else",
        "show",
        "shows",
        "list",
        "lists",
        "give",
        "gives",
        "tell",
        "me",
        "please",
        "find",
        "display",
        "get",
        "see",
        "compute",
        "calculate",
        "return",
        "know",
        "want",
        "like",
        "let",
        "lets",
        "plot",
        "chart",
        "graph",
        "draw",
        "visualize",
        "visualise",
        "value",
        "values",
        "data",
        "dataset",
        "table",
        "record",
        "records",
        "row",
        "rows",
        "entry",
        "entries",
        "there's",
        "whats",
        "what's",
        "whose",
        "ever",
        "got",
        "get",
        "gets",
        "having",
        "live",
        "lives",
        "living",
        "observed",
        "recorded",
        "measured",
        "seen",
        "found",
        "happen",
        "happened",
        "exist",
        "exists",
        "exactly",
        "roughly",
        "approximately",
        "about",
        "around",
        "nearly",
        "almost",
        "broken",
        "down",
        "grouped",
        "split",
        "vs",
        "versus",
        "made",
        "built",
        "produced",
        "sold",
        "happened",
        "recorded",
        "registered",
        "taken",
        "measured",
        "located",
        "based",
    ]
)

# Aggregate words -> the measure function they ask for.
AGGREGATES: dict[str, str] = {
    "average": "mean",
    "mean": "mean",
    "avg": "mean",
    "typical": "mean",
    "total": "sum",
    "sum": "sum",
    "combined": "sum",
    "cumulative": "sum",
    "median": "median",
    "maximum": "max",
    "max": "max",
    "highest": "max",
    "largest": "max",
    "biggest": "max",
    "greatest": "max",
    "peak": "max",
    "top": "max",
    "minimum": "min",
    "min": "min",
    "lowest": "min",
    "smallest": "min",
    "least": "min",
    "std": "std",
    "stdev": "std",
    "stddev": "std",
    "variability": "std",
    "spread": "std",
    "volatility": "std",
}

# Multi-word phrases read as one token, on the question and on column names alike.
PHRASES: dict[tuple[str, ...], str] = {
    ("miles", "per", "gallon"): "mpg",
    ("mile", "per", "gallon"): "mpg",
    ("fuel", "economy"): "mpg",
    ("fuel", "efficiency"): "mpg",
    ("horse", "power"): "horsepower",
    ("standard", "deviation"): "std",
    ("how", "many"): "how_many",
    ("how", "much"): "how_much",
    ("number", "of"): "number_of",
    ("count", "of"): "number_of",
    ("amount", "of"): "number_of",
    ("at", "least"): "ge_op",
    ("no", "less", "than"): "ge_op",
    ("not", "less", "than"): "ge_op",
    ("or", "more"): "or_more",
    ("or", "above"): "or_more",
    ("and", "above"): "or_more",
    ("or", "higher"): "or_more",
    ("at", "most"): "le_op",
    ("no", "more", "than"): "le_op",
    ("not", "more", "than"): "le_op",
    ("up", "to"): "le_op",
    ("or", "less"): "or_less",
    ("or", "fewer"): "or_less",
    ("or", "below"): "or_less",
    ("or", "lower"): "or_less",
    ("and", "below"): "or_less",
    ("more", "than"): "gt_op",
    ("greater", "than"): "gt_op",
    ("higher", "than"): "gt_op",
    ("larger", "than"): "gt_op",
    ("bigger", "than"): "gt_op",
    ("over", "than"): "gt_op",
    ("less", "than"): "lt_op",
    ("fewer", "than"): "lt_op",
    ("lower", "than"): "lt_op",
    ("smaller", "than"): "lt_op",
    ("equal", "to"): "eq_op",
    ("equals", "to"): "eq_op",
    ("for", "each"): "by",
    ("for", "every"): "by",
    ("of", "each"): "by",
    ("in", "each"): "by",
    ("per", "each"): "by",
    ("broken", "down", "by"): "by",
    ("grouped", "by"): "by",
    ("split", "by"): "by",
    ("sorted", "by"): "order_by",
    ("ordered", "by"): "order_by",
    ("ranked", "by"): "order_by",
    ("sort", "by"): "order_by",
    ("order", "by"): "order_by",
    ("over", "time"): "over_time",
    ("through", "time"): "over_time",
    ("most", "recent"): "latest",
    ("most", "expensive"): "priciest",
    ("least", "expensive"): "cheapest",
    ("the", "most"): "most",
    ("the", "least"): "least",
    ("the", "fewest"): "least",
}

COMPARATORS: dict[str, str] = {
    "above": "gt",
    "over": "gt",
    "exceeding": "gt",
    "exceeds": "gt",
    "exceed": "gt",
    "beyond": "gt",
    "gt_op": "gt",
    ">": "gt",
    "below": "lt",
    "under": "lt",
    "lt_op": "lt",
    "<": "lt",
    "ge_op": "ge",
    ">=": "ge",
    "le_op": "le",
    "<=": "le",
    "eq_op": "eq",
    "=": "eq",
    "exactly": "eq",
}
TRAILING_COMPARATORS = {"or_more": "ge", "or_less": "le", "plus": "ge"}

# Time buckets: the word and the unit.
BUCKETS: dict[str, str] = {
    "hourly": "hour",
    "hour": "hour",
    "daily": "day",
    "day": "day",
    "weekly": "week",
    "week": "week",
    "monthly": "month",
    "month": "month",
    "quarterly": "quarter",
    "quarter": "quarter",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
    "year": "year",
}
BUCKET_ADJECTIVES = frozenset(
    {"hourly", "daily", "weekly", "monthly", "quarterly", "yearly", "annual", "annually"}
)

GROUP_MARKERS = frozenset({"by", "per", "across", "each", "every"})

MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for m in names
}

# Concepts: words that mean the same quantity whichever spelling a dataset uses.
_CONCEPTS: dict[str, tuple[str, ...]] = {
    "weight": ("weight", "mass", "heavy", "light", "kg", "kilogram", "pound", "lbs"),
    "temperature": ("temperature", "temp", "warm", "hot", "cold", "cool", "heat"),
    "precipitation": ("precipitation", "rain", "rainfall", "precip", "wet", "rainy"),
    "mpg": ("mpg",),
    "horsepower": ("horsepower", "hp", "power", "powerful"),
    "price": ("price", "cost", "expensive", "cheap", "priced", "priciest"),
    "length": ("length", "long", "len"),
    "height": ("height", "tall"),
    "width": ("width", "wide", "breadth"),
    "depth": ("depth", "deep"),
    "age": ("age", "old", "young", "aged"),
    "speed": ("speed", "fast", "slow", "quick", "velocity"),
    "wind": ("wind", "windy", "windspeed"),
    "sex": ("sex", "gender"),
    "sales": ("sales", "sale", "revenue", "turnover"),
    "quantity": ("quantity", "qty", "units"),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "lon", "lng"),
    "population": ("population", "pop", "inhabitants"),
    "country": ("country", "nation"),
    "acceleration": ("acceleration", "accel"),
    "displacement": ("displacement", "disp"),
    "cylinder": ("cylinder", "cyl"),
    "date": ("date", "time"),
    "distance": ("distance", "far", "mileage", "miles", "mile", "km"),
    "employee": ("employee", "employment", "staff", "workers", "jobs", "employed"),
    "profit": ("profit", "profitable", "earnings"),
    "max": ("max", "maximum"),
    "min": ("min", "minimum"),
}
_CONCEPT_OF = {lemma_word: name for name, words in _CONCEPTS.items() for lemma_word in words}

# Superlative / comparative adjectives: (direction, concept or None).
SUPERLATIVES: dict[str, tuple[str, str | None]] = {
    "most": ("desc", None),
    "highest": ("desc", None),
    "largest": ("desc", None),
    "biggest": ("desc", None),
    "greatest": ("desc", None),
    "best": ("desc", None),
    "maximum": ("desc", None),
    "top": ("desc", None),
    "least": ("asc", None),
    "fewest": ("asc", None),
    "lowest": ("asc", None),
    "smallest": ("asc", None),
    "worst": ("asc", None),
    "minimum": ("asc", None),
    "bottom": ("asc", None),
    "heaviest": ("desc", "weight"),
    "lightest": ("asc", "weight"),
    "longest": ("desc", "length"),
    "shortest": ("asc", "length"),
    "tallest": ("desc", "height"),
    "widest": ("desc", "width"),
    "narrowest": ("asc", "width"),
    "deepest": ("desc", "depth"),
    "shallowest": ("asc", "depth"),
    "oldest": ("desc", "age"),
    "youngest": ("asc", "age"),
    "fastest": ("desc", "speed"),
    "slowest": ("asc", "speed"),
    "hottest": ("desc", "temperature"),
    "warmest": ("desc", "temperature"),
    "coldest": ("asc", "temperature"),
    "coolest": ("asc", "temperature"),
    "wettest": ("desc", "precipitation"),
    "rainiest": ("desc", "precipitation"),
    "driest": ("asc", "precipitation"),
    "windiest": ("desc", "wind"),
    "priciest": ("desc", "price"),
    "cheapest": ("asc", "price"),
    "earliest": ("asc", "date"),
    "latest": ("desc", "date"),
    "newest": ("desc", "date"),
    "first": ("asc", "date"),
    "last": ("desc", "date"),
    "powerful": ("desc", "horsepower"),
    "efficient": ("desc", "mpg"),
}
COMPARATIVES: dict[str, tuple[str, str]] = {
    "heavier": ("gt", "weight"),
    "lighter": ("lt", "weight"),
    "longer": ("gt", "length"),
    "shorter": ("lt", "length"),
    "taller": ("gt", "height"),
    "wider": ("gt", "width"),
    "deeper": ("gt", "depth"),
    "older": ("gt", "age"),
    "younger": ("lt", "age"),
    "faster": ("gt", "speed"),
    "slower": ("lt", "speed"),
    "hotter": ("gt", "temperature"),
    "warmer": ("gt", "temperature"),
    "colder": ("lt", "temperature"),
    "cooler": ("lt", "temperature"),
    "wetter": ("gt", "precipitation"),
    "windier": ("gt", "wind"),
    "pricier": ("gt", "price"),
    "cheaper": ("lt", "price"),
}

# Quantities that add up (a total per group reads naturally); others are averaged.
ADDITIVE = frozenset(
    {
        "sales",
        "quantity",
        "precipitation",
        "profit",
        "population",
        "distance",
        "employee",
        "amount",
        "revenue",
        "count",
        "yield",
        "generation",
        "volume",
        "death",
        "wound",
        "disease",
        "order",
        "visit",
        "click",
        "unit",
        "case",
        "spend",
        "spending",
        "expense",
        "production",
        "export",
        "import",
        "sold",
        "net",
    }
)

UNITS = frozenset(
    [
        "mm",
        "cm",
        "m",
        "km",
        "g",
        "kg",
        "mg",
        "lb",
        "lbs",
        "oz",
        "in",
        "ft",
        "s",
        "ms",
        "sec",
        "secs",
        "usd",
        "eur",
        "gbp",
        "pct",
        "c",
        "f",
        "mph",
        "kmh",
        "kph",
        "kwh",
        "mwh",
        "gwh",
        "mw",
        "kw",
        "w",
        "l",
        "ml",
    ]
)
EXTREMA = frozenset(
    {"max", "min", "maximum", "minimum", "high", "low", "highest", "lowest", "upper", "lower"}
)
"""Words that make a column one end of a range (``temp_max``, ``Low``)."""

CONNECTORS = frozenset({"in", "per", "of", "the", "a", "and", "to", "by", "at", "no"})

COUNT_WORDS = frozenset({"how_many", "number_of", "count", "counts", "frequency"})
DISTINCT_WORDS = frozenset({"distinct", "unique", "different", "separate"})
CORRELATION_WORDS = frozenset(
    {
        "correlation",
        "correlate",
        "correlated",
        "correlates",
        "relationship",
        "relation",
        "association",
        "corr",
    }
)
LISTING_WORDS = frozenset({"show", "list", "display", "give", "find", "which", "what", "who"})
ASCENDING_WORDS = frozenset({"ascending", "asc", "increasing"})
DESCENDING_WORDS = frozenset({"descending", "desc", "decreasing"})

# Words that signal another language (Latin scripts); English has none of them.
FOREIGN = frozenset(
    [
        "el",
        "la",
        "los",
        "las",
        "del",
        "por",
        "cual",
        "cuál",
        "cuántos",
        "cuantos",
        "cuántas",
        "qué",
        "que",
        "es",
        "son",
        "promedio",
        "media",
        "cada",
        "entre",
        "donde",
        "dónde",
        "cuando",
        "cuál",
        "año",
        "le",
        "les",
        "des",
        "du",
        "une",
        "est",
        "sont",
        "quelle",
        "quel",
        "quels",
        "combien",
        "moyenne",
        "par",
        "chaque",
        "pour",
        "avec",
        "dans",
        "der",
        "die",
        "das",
        "den",
        "dem",
        "ist",
        "sind",
        "wie",
        "viele",
        "welche",
        "welcher",
        "durchschnitt",
        "pro",
        "jede",
        "jeder",
        "und",
        "mit",
        "gibt",
        "es",
        "im",
        "nach",
        "il",
        "gli",
        "della",
        "delle",
        "quanti",
        "quante",
        "qual",
        "è",
        "media",
        "ogni",
        "sono",
        "per",
        "anno",
        "os",
        "as",
        "dos",
        "das",
        "quantos",
        "quantas",
        "qual",
        "média",
        "cada",
        "são",
        "ano",
        "het",
        "een",
        "hoeveel",
        "gemiddelde",
        "welke",
        "zijn",
    ]
)
ENGLISH = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "in",
        "on",
        "is",
        "are",
        "was",
        "were",
        "what",
        "which",
        "how",
        "many",
        "much",
        "by",
        "per",
        "for",
        "each",
        "with",
        "and",
        "or",
        "average",
        "mean",
        "total",
        "number",
        "show",
        "list",
        "top",
        "most",
        "least",
        "highest",
        "lowest",
        "there",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "from",
        "to",
        "than",
        "above",
        "below",
        "between",
    ]
)


_INVARIANT = frozenset({"species", "series", "news", "means", "physics", "economics", "chassis"})


def lemma(word: str) -> str:
    """``word`` without a plural ending (a light rule, the same on both sides)."""
    w = word.lower()
    if len(w) <= 3 or not w.isalpha() or w in _INVARIANT:
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "xes", "ches", "shes", "zes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is", "ies", "cies", "as", "os")):
        return w[:-1]
    return w


def concept(word: str) -> str:
    """The concept a (lemmatised) word stands for, or the word itself."""
    return _CONCEPT_OF.get(word, word)


def rewrite(words: list[str]) -> list[str]:
    """``words`` with the known phrases (:data:`PHRASES`) joined into one token each."""
    out: list[str] = []
    i = 0
    while i < len(words):
        for size in (3, 2):
            key = tuple(words[i : i + size])
            if len(key) == size and key in PHRASES:
                out.append(PHRASES[key])
                i += size
                break
        else:
            out.append(words[i])
            i += 1
    return out


_CAMEL = re.compile(
    r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])"
)


def name_words(name: str) -> list[str]:
    """A column name's words: snake_case, camelCase, digits and punctuation split.

    >>> name_words("body_mass_g"), name_words("petalLength"), name_words("Weight (kg)")
    (['body', 'mass', 'g'], ['petal', 'length'], ['weight', 'kg'])
    """
    spaced = _CAMEL.sub(" ", name)
    return [w.lower() for w in re.split(r"[^0-9A-Za-z]+", spaced) if w]

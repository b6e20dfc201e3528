"""augury's own semantic parser: a plain-English question about one dataset -> a plan.

Offline and deterministic. The question is read in passes over its tokens:

1. **values**: a categorical value of the dataset named in the question ("Adelie",
   "Biscoe island") becomes a filter on its column;
2. **columns**: runs of words link to columns by their names' words (``body_mass_g``
   is "body mass", "mass", and through the concept lexicon "weight"), then the words no
   rule linked are compared to the column names with word embeddings;
3. **numbers and dates**: comparisons ("above 3.5", "at least 20", "between 10 and
   20", "heavier than 4000"), years and months ("in 2014", "in March 2015", "since
   2010", "before 1980");
4. **structure**: groups ("by X", "per X", "for each X", "X-wise", "which X has ..."),
   time buckets ("monthly", "per week"), aggregates ("average", "total", "how many",
   "number of distinct", "correlation between A and B"), superlatives ("which X has the
   most Y", "top 3 X by Y", "the 5 heaviest penguins") and row listings.

A question it cannot read raises :class:`AskError` (``QUESTION_NOT_UNDERSTOOD``) naming
the reason and candidate columns: an empty question, another language, a question that
names no column, or a word that fits two columns about equally ("length" in iris). The
question's text never reaches SQL: the plan names columns the dataset has and carries
values as parameters, and the tables engine compiles it.

**Confidence** is ``min(link scores) * 1 / (1 + 0.5 * unlinked) * 0.85 ** assumed``:
each column link scores 1.0 for an exact name, 0.55-0.9 for part of a name (by the
share of the name's words matched), x0.92 through a synonym, the embedding similarity
x0.9 for a fuzzy link; ``unlinked`` counts the question's content words nothing read;
``assumed`` counts the choices the question left open (an aggregate it did not name).

>>> from augury.engines.ask.context import ColumnInfo, TableContext, describe_name
>>> def col(name, kind, values=None):
...     words, content, unit = describe_name(name)
...     return ColumnInfo(name, kind, words, content, unit, values=values)
>>> ctx = TableContext("penguins", ["penguin"], 344, sampled_rows=344, columns=[
...     col("species", "category", ["Adelie", "Gentoo"]),
...     col("island", "category", ["Biscoe", "Dream"]), col("body_mass_g", "float")])
>>> ctx.values = {("adelie",): [("species", "Adelie")], ("gentoo",): [("species", "Gentoo")],
...               ("biscoe",): [("island", "Biscoe")], ("dream",): [("island", "Dream")]}
>>> describe(parse("Average body mass by species", ctx).plan)
'mean of body_mass_g by species'
>>> describe(parse("How many Adelie penguins live on Biscoe island?", ctx).plan)
'number of rows where species is Adelie and island is Biscoe'
>>> describe(parse("Which island has the most penguins?", ctx).plan)
'number of rows by island, highest count first, 1 row'
>>> parse("average salary", ctx)
Traceback (most recent call last):
...
augury.engines.ask.parser.AskError: The question names no column of penguins ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from augury.engines.tabular.errors import TableError
from augury.engines.tabular.query import Bucket, Filter

from . import lexicon as lx
from .context import NUMERIC, TEXT, TIME, ColumnInfo, TableContext
from .plan import Measure, Plan, describe

__all__ = ["AskError", "Parsed", "describe", "find_target", "parse"]

MAX_QUESTION = 1_000
MAX_PAIRS = 5_000  # rows a "X vs Y" scatter shows
EMBED_MIN = 0.62
EMBED_MARGIN = 0.06
TIE = 0.02
ROW_NOUNS = frozenset(
    {"row", "record", "entry", "observation", "item", "case", "sample", "line", "thing", "one"}
    | {"order", "transaction", "event", "purchase", "sale", "incident"}
)
NOMINAL_AGGREGATES = frozenset(
    {
        "average",
        "mean",
        "avg",
        "sum",
        "total",
        "median",
        "std",
        "stdev",
        "stddev",
        "maximum",
        "minimum",
        "max",
        "min",
    }
)
TREND_WORDS = frozenset({"over_time", "trend", "evolution", "timeline", "history", "evolve"})
RANK_WORDS = frozenset({"by", "on", "for"})


class AskError(TableError):
    """A question the parser will not answer, with the reason and candidate columns.

    ``details``: ``reason`` (``empty``, ``language``, ``no_column``, ``ambiguous``,
    ``unsupported``), ``candidates`` (column names) and what else explains it.
    """

    def __init__(self, reason: str, message: str, candidates: list[str] | None = None, **more: Any):
        details = {"reason": reason, "candidates": list(candidates or []), **more}
        super().__init__("QUESTION_NOT_UNDERSTOOD", message, details)


@dataclass
class Parsed:
    """A question's plan, how sure the parser is (0..1), and how it read the words."""

    plan: Plan
    confidence: float
    notes: list[str] = field(default_factory=list)


@dataclass
class Tok:
    i: int
    raw: str
    word: str
    lem: str
    kind: str  # word | num | date | sym
    num: float | None = None
    used: str | None = None


@dataclass
class Mention:
    start: int
    end: int
    column: ColumnInfo
    score: float
    how: str
    role: str | None = None  # filter | group | measure | rank | select
    fn: str | None = None
    alternatives: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.how


_RAW = re.compile(
    r"[qQ][1-4]\b|[^\W\d_][^\W_]*(?:_[^\W_]+)+|\d{4}-\d{2}(?:-\d{2})?|(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?%?|\d+(?:\.\d+)?|[^\W\d_]+|>=|<=|[<>=]"
)
FUNCTION = (
    lx.STOPWORDS
    | set(lx.AGGREGATES)
    | set(lx.COMPARATORS)
    | set(lx.TRAILING_COMPARATORS)
    | set(lx.BUCKETS)
    | set(lx.SUPERLATIVES)
    | set(lx.COMPARATIVES)
    | lx.COUNT_WORDS
    | lx.DISTINCT_WORDS
    | lx.CORRELATION_WORDS
    | lx.LISTING_WORDS
    | lx.ASCENDING_WORDS
    | lx.DESCENDING_WORDS
    | set(lx.MONTHS)
    | set(lx.PHRASES.values())
    | TREND_WORDS
    | {"wise", "s", "t", "most", "least", "fewest", "than", "descending", "ascending", "order"}
    | {"sort", "rank", "ranked", "ranking", "breakdown", "distribution", "change", "over"}
    | {"percentage", "share", "proportion", "compare", "comparison", "year", "month"}
)


def parse(question: str, context: TableContext) -> Parsed:
    """The plan ``question`` asks over the dataset ``context`` describes, or AskError."""
    return _Reader(question, context).read()


def find_target(question: str, context: TableContext) -> str:
    """The column a key-drivers question is about ("what drives sales?", "key drivers
    of yield"), or AskError when none or several fit."""
    reader = _Reader(question, context)
    reader.prepare()
    columns = list(dict.fromkeys(m.column.name for m in reader.mentions))
    if not columns:
        raise reader.no_column()
    if len(columns) > 1 or any(m.alternatives for m in reader.mentions):
        names = columns + [a for m in reader.mentions for a in m.alternatives]
        raise AskError(
            "ambiguous",
            f"The question names several columns ({', '.join(dict.fromkeys(names))}); "
            "name the one to explain.",
            list(dict.fromkeys(names)),
        )
    return columns[0]


class _Reader:
    def __init__(self, question: str, context: TableContext):
        self.question = question
        self.ctx = context
        self.notes: list[str] = []
        self.mentions: list[Mention] = []
        self.filters: list[Filter] = []
        self.links: list[float] = []
        self.assumed = 0
        self.toks: list[Tok] = []
        self.which_time = False

    # -- the passes ---------------------------------------------------------------

    def prepare(self) -> None:
        text = (self.question or "").strip()
        if not re.search(r"\w", text):
            raise AskError("empty", "The question is empty.", self._all_columns())
        if len(text) > MAX_QUESTION:
            raise AskError(
                "unsupported",
                f"The question is longer than {MAX_QUESTION} characters.",
                self._all_columns(),
            )
        self.toks = self._tokenize(text)
        self._check_language(text)
        self._link_values(strong=True)
        self._rewrite()
        self._link_columns()
        self._link_values(strong=False)
        self._absorb_value_columns()
        self._link_embeddings()

    def read(self) -> Parsed:
        self.prepare()
        self._dataset_nouns()
        self._time_filters()
        self._comparisons()
        self._counted_values()
        bucket, group_mentions = self._grouping()
        plan = self._assemble(bucket, group_mentions)
        for g in plan.group_by + ([plan.bucket.column] if plan.bucket else []):
            if self._may_be_null(g):
                plan.filters.append(Filter(g, "not_null"))
        return Parsed(plan, self._confidence(), self.notes)

    # -- tokens ------------------------------------------------------------------

    def _tokenize(self, text: str) -> list[Tok]:
        out: list[Tok] = []
        names = {c.name.lower() for c in self.ctx.columns}
        pieces: list[str] = []
        for raw in _RAW.findall(text):
            if "_" in raw and raw.lower() not in names:
                pieces += _RAW.findall(raw.replace("_", " "))
            else:
                pieces.append(raw)
        for raw in pieces:
            low = raw.lower()
            if re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", low):
                out.append(Tok(len(out), raw, low, low, "date"))
            elif re.fullmatch(r"-?[\d,]*\d(\.\d+)?%?", low):
                number = float(low.replace(",", "").rstrip("%"))
                out.append(Tok(len(out), raw, low, low.replace(",", ""), "num", number))
            elif low in (">", "<", ">=", "<=", "="):
                out.append(Tok(len(out), raw, low, low, "sym"))
            else:
                out.append(Tok(len(out), raw, low, lx.lemma(low), "word"))
        return out

    def _rewrite(self) -> None:
        """Join the lexicon's phrases ("miles per gallon", "at least") into one token."""
        out: list[Tok] = []
        i = 0
        toks = self.toks
        while i < len(toks):
            for size in (3, 2):
                part = toks[i : i + size]
                key = tuple(t.word for t in part)
                if len(part) == size and key in lx.PHRASES and not any(t.used for t in part):
                    word = lx.PHRASES[key]
                    out.append(Tok(0, " ".join(t.raw for t in part), word, word, "word"))
                    i += size
                    break
            else:
                out.append(toks[i])
                i += 1
        for n, t in enumerate(out):
            t.i = n
        self.toks = out

    def _check_language(self, text: str) -> None:
        letters = [c for c in text if c.isalpha()]
        latin = sum(1 for c in letters if c.isascii() or "\u00c0" <= c <= "\u024f")
        words = [t.word for t in self.toks if t.kind == "word"]
        known = self._known_words()
        if letters and latin / len(letters) < 0.5 and not any(w in known for w in words):
            raise AskError(
                "language",
                "The question is not in English; augury's offline parser reads English.",
                self._all_columns(),
            )
        foreign = sum(1 for w in words if w in lx.FOREIGN and w not in known)
        english = sum(1 for w in words if w in lx.ENGLISH)
        if foreign >= 2 and foreign > english:
            raise AskError(
                "language",
                "The question looks like another language; augury's offline parser reads English.",
                self._all_columns(),
            )

    def _known_words(self) -> set[str]:
        known: set[str] = set(self.ctx.name_words)
        for c in self.ctx.columns:
            known.update(c.words)
        for key in self.ctx.values:
            known.update(key)
        return known

    # -- linking -----------------------------------------------------------------

    def _link_values(self, *, strong: bool) -> None:
        index = self.ctx.values
        if not index:
            return
        mentioned = {m.column.name for m in self.mentions}
        n = len(self.toks)
        for size in range(min(8, n), 0, -1):
            for start in range(0, n - size + 1):
                part = self.toks[start : start + size]
                if any(t.used for t in part):
                    continue
                key = tuple(t.lem for t in part)
                found = index.get(key)
                if not found and size == 1 and strong:
                    found = self._value_form(part[0])
                if not found:
                    continue
                if not self._value_ok(part, found, mentioned, strong):
                    continue
                column, value = self._pick_value(found, mentioned)
                for t in part:
                    t.used = "value"
                self._add_filter(column, value, " ".join(t.raw for t in part))

    def _value_form(self, t: Tok) -> list[tuple[str, str]] | None:
        """A value's adjective: "rainy" days (rain), "sunny" (sun), "European" (Europe),
        "Japanese" (Japan)."""
        w = t.word
        if t.kind != "word" or len(w) < 5 or self._names_column(w):
            return None
        stems = []
        if w.endswith("y"):
            stems += [w[:-1], w[:-2] if len(w) > 4 and w[-2] == w[-3] else w[:-1]]
        for suffix in ("ean", "ese", "ian", "ish", "an", "n"):
            if w.endswith(suffix):
                stems.append(w[: -len(suffix)])
        for stem in stems:
            if len(stem) >= 3 and (stem,) in self.ctx.values:
                return self.ctx.values[(stem,)]
        return None

    def _value_ok(
        self, part: list[Tok], found: list[tuple[str, str]], mentioned: set[str], strong: bool
    ) -> bool:
        words = [t.lem for t in part]
        if all(t.kind == "num" for t in part):
            return False  # a bare number is a number, not a category
        weak = len(part) == 1 and (
            words[0] in FUNCTION or len(words[0]) <= 2 or words[0] in lx.FOREIGN
        )
        if len(part) == 1 and len(words[0]) <= 2:
            raw = part[0].raw
            exact = any(v == raw for _, v in found)
            weak = not (exact and raw.isupper())
        if not weak:
            if len(part) == 1 and self._names_column(words[0]):
                return False
            return strong
        return not strong and any(c in mentioned for c, _ in found)

    def _names_column(self, word: str) -> bool:
        return any(c.words == [word] for c in self.ctx.columns)

    def _pick_value(self, found: list[tuple[str, str]], mentioned: set[str]) -> tuple[str, str]:
        named = [f for f in found if f[0] in mentioned]
        pool = named or found
        return min(pool, key=lambda f: self.ctx.column(f[0]).distinct or 0)

    def _add_filter(self, column: str, value: str, text: str) -> None:
        for k, f in enumerate(self.filters):
            if f.column == column and f.op in ("eq", "in"):
                values = f.value if isinstance(f.value, list) else [f.value]
                if value not in values:
                    self.filters[k] = Filter(column, "in", [*values, value])
                return
        self.filters.append(Filter(column, "eq", value))
        self.links.append(1.0)
        self.notes.append(f"'{text}' read as {column} = {value}")

    def _link_columns(self) -> None:
        toks = self.toks
        candidates: list[tuple[float, int, int, int, list[tuple[float, ColumnInfo]], bool]] = []
        for start in range(len(toks)):
            for end in range(start + 1, min(start + 5, len(toks)) + 1):
                part = toks[start:end]
                if any(t.used or t.kind != "word" or t.word in lx.STOPWORDS for t in part):
                    break
                scored = self._column_scores(part)
                if not scored:
                    continue
                best = scored[0][0]
                tied = [s for s in scored if s[0] >= best - TIE]
                candidates.append((best, end - start, -start, start, tied, len(tied) > 1))
        candidates.sort(key=lambda c: (c[0], c[1], c[2]), reverse=True)
        for best, size, _, start, tied, _ambiguous in candidates:
            part = toks[start : start + size]
            if any(t.used for t in part):
                continue
            chosen, settled = self._resolve(tied)
            if settled and len(tied) > 1:
                best = max(best, 0.9)
            for t in part:
                t.used = "column"
            text = " ".join(t.raw for t in part)
            alts = [] if settled else [c.name for _, c in tied if c is not chosen]
            self.mentions.append(
                Mention(start, start + size, chosen, best, text, alternatives=alts)
            )
            if text.lower().replace(" ", "_") != chosen.name.lower():
                self.notes.append(f"'{text}' read as {chosen.name}")
        self.mentions.sort(key=lambda m: m.start)

    def _column_scores(self, part: list[Tok]) -> list[tuple[float, ColumnInfo]]:
        lemmas = [t.lem for t in part]
        if all(w in FUNCTION and w not in {"year", "month"} for w in lemmas) and not any(
            c.words == lemmas for c in self.ctx.columns
        ):
            return []
        wanted = {lx.concept(w) for w in lemmas}
        synonym = any(lx.concept(w) != w for w in lemmas)
        scored: list[tuple[float, ColumnInfo]] = []
        for col in self.ctx.columns:
            if col.words == lemmas or col.name.lower() == " ".join(lemmas):
                scored.append((1.0, col))
                continue
            if not wanted <= col.content:
                continue
            share = len(wanted) / len(col.content)
            score = 1.0 if wanted == col.content else 0.55 + 0.35 * share
            if synonym and not set(lemmas) <= set(col.words):
                score *= 0.92
            scored.append((score, col))
        scored.sort(key=lambda s: -s[0])
        return scored

    def _resolve(self, tied: list[tuple[float, ColumnInfo]]) -> tuple[ColumnInfo, bool]:
        """One column among equally good ones, and whether the question settled it: the
        one whose other words the question also uses, or whose direction word matches
        the question's ("highest temperature" is ``temp_max``). Unsettled, the first is
        kept with the others as alternatives (an error follows if the column matters)."""
        if len(tied) == 1:
            return tied[0][1], True
        used = {lx.concept(t.lem) for t in self.toks}
        named = [col for _, col in tied if not (col.content - used)]
        if len(named) == 1:
            return named[0], True
        direction = self._direction_words()
        fits = [col for _, col in tied if direction & col.content]
        if direction and len(fits) == 1:
            return fits[0], True
        return tied[0][1], False

    def _direction_words(self) -> set[str]:
        found: set[str] = set()
        for t in self.toks:
            fn = lx.AGGREGATES.get(t.word)
            if fn in ("max", "min"):
                found.add(fn)
            sup = lx.SUPERLATIVES.get(t.word)
            if sup:
                found.add("max" if sup[0] == "desc" else "min")
        found.update({"high"} if "max" in found else set())
        found.update({"low"} if "min" in found else set())
        return found

    def _absorb_value_columns(self) -> None:
        """ "Biscoe island": the column word beside its own value is part of the filter."""
        filtered = {f.column for f in self.filters}
        for m in list(self.mentions):
            if m.column.name not in filtered:
                continue
            before = self.toks[m.start - 1] if m.start > 0 else None
            after = self.toks[m.end] if m.end < len(self.toks) else None
            if any(t is not None and t.used == "value" for t in (before, after)):
                m.role = "filter"

    def _link_stems(self) -> None:
        """ "generated" finds ``net_generation``: a shared stem of six letters or more."""
        for t in self.toks:
            if not self._content(t) or t.used or len(t.word) < 6:
                continue
            fits = {
                c.name: c
                for c in self.ctx.columns
                for w in c.words
                if len(w) >= 6 and w[:6] == t.word[:6] and w != t.word
            }
            if len(fits) == 1:
                col = next(iter(fits.values()))
                t.used = "column"
                self.mentions.append(Mention(t.i, t.i + 1, col, 0.8, t.raw))
                self.notes.append(f"'{t.raw}' read as {col.name} (same stem)")
        self.mentions.sort(key=lambda m: m.start)

    def _link_embeddings(self) -> None:
        self._link_stems()
        loose = [t for t in self.toks if self._content(t) and not t.used]
        if not loose:
            return
        matrix = self.ctx.embeddings()
        if matrix is None:
            return
        from .embed import embed

        vectors = embed([t.word for t in loose])
        if vectors is None:
            return
        sims = vectors @ matrix.T
        for t, row in zip(loose, sims, strict=True):
            order = np.argsort(-row)
            best = float(row[order[0]])
            second = float(row[order[1]]) if len(order) > 1 else -1.0
            if best >= EMBED_MIN and best - second >= EMBED_MARGIN:
                col = self.ctx.columns[int(order[0])]
                t.used = "column"
                self.mentions.append(Mention(t.i, t.i + 1, col, 0.9 * best, t.raw))
                self.notes.append(f"'{t.raw}' read as {col.name} (similar words, {best:.2f})")
        self.mentions.sort(key=lambda m: m.start)

    def _content(self, t: Tok) -> bool:
        return (
            t.kind == "word"
            and t.lem not in FUNCTION
            and t.word not in FUNCTION
            and len(t.word) > 1
        )

    def _dataset_nouns(self) -> None:
        names = set(self.ctx.name_words)
        for t in self.toks:
            if t.used is None and t.kind == "word" and (t.lem in names or t.lem in ROW_NOUNS):
                t.used = "rows"

    # -- numbers and dates -------------------------------------------------------

    def _time_filters(self) -> None:
        toks = self.toks
        for k, t in enumerate(toks):
            if t.used or not self._is_year(t):
                continue
            prev = toks[k - 1].word if k > 0 else ""
            month = lx.MONTHS.get(prev) if k > 0 and not toks[k - 1].used else None
            months = 1
            quarter = re.fullmatch(r"q([1-4])", prev)
            if quarter and not toks[k - 1].used:
                month, months = 3 * int(quarter.group(1)) - 2, 3
            before = toks[k - 2].word if month and k > 1 else prev
            year = int(t.num or 0)
            ranged = k + 2 < len(toks) and toks[k + 1].word in ("and", "to")
            if ranged and self._is_year(toks[k + 2]) and not toks[k + 2].used:
                self._year_range(year, int(toks[k + 2].num or 0), [toks[k], toks[k + 2]])
                toks[k + 1].used = "time"
                if before in ("between", "from"):
                    toks[k - 1].used = "time"
                continue
            op = _TIME_OPS.get(before, "eq")
            used = [t] + ([toks[k - 1]] if month else [])
            if op != "eq" and k > (2 if month else 1) - 1:
                used.append(toks[k - (2 if month else 1)])
            self._year_filter(year, month, op, used, months)
        for t in toks:
            if t.kind == "date" and not t.used:
                self._date_filter(t)

    def _is_year(self, t: Tok) -> bool:
        return (
            t.kind == "num"
            and t.num is not None
            and float(t.num).is_integer()
            and (1700 <= t.num <= 2100 or (1000 <= t.num <= 2999 and self._temporal_before(t)))
            and "." not in t.raw
            and "," not in t.raw
            and self._time_target() is not None
            and not self._numeric_context(t)
        )

    def _temporal_before(self, t: Tok) -> bool:
        prev = self.toks[t.i - 1].word if t.i > 0 else ""
        return prev in ("in", "since", "before", "after", "during", "from", "between", "until")

    def _numeric_context(self, t: Tok) -> bool:
        """A number compared with a numeric column ("mass above 2000") is no year."""
        k = t.i
        window = self.toks[max(0, k - 3) : k]
        if any(w.word in lx.COMPARATORS or w.word in lx.COMPARATIVES for w in window):
            near = [m for m in self.mentions if m.end <= k and m.end >= k - 4]
            return any(m.column.type in NUMERIC and not m.column.is_year for m in near)
        return False

    def _time_target(self) -> ColumnInfo | None:
        mentioned = [m.column for m in self.mentions if m.column.type in TIME or m.column.is_year]
        if mentioned:
            return mentioned[0]
        years = [c for c in self.ctx.columns if c.is_year]
        if years:
            return years[0]
        times = self.ctx.time_columns
        return times[0] if times else None

    def _year_filter(
        self, year: int, month: int | None, op: str, used: list[Tok], months: int = 1
    ) -> None:
        col = self._time_target()
        if col is None:
            return
        for t in used:
            t.used = "time"
        self._mark_time_mention(col)
        text = " ".join(t.raw for t in sorted(used, key=lambda t: t.i))
        if col.is_year:
            if month is not None:
                self.notes.append(f"'{text}': {col.name} holds years, the month is ignored")
                self.assumed += 1
            self.filters.append(Filter(col.name, op, year))
            self.notes.append(f"'{text}' read as {col.name} {op} {year}")
            return
        start = f"{year:04d}-{month or 1:02d}-01"
        if month is None:
            end = f"{year + 1:04d}-01-01"
        else:
            after = year * 12 + month - 1 + months
            end = f"{after // 12:04d}-{after % 12 + 1:02d}-01"
        if op == "eq":
            self.filters += [Filter(col.name, "ge", start), Filter(col.name, "lt", end)]
        elif op in ("ge",):
            self.filters.append(Filter(col.name, "ge", start))
        elif op == "gt":
            self.filters.append(Filter(col.name, "ge", end))
        elif op == "lt":
            self.filters.append(Filter(col.name, "lt", start))
        else:
            self.filters.append(Filter(col.name, "lt", end))
        self.notes.append(f"'{text}' read as a filter on {col.name}")

    def _year_range(self, low: int, high: int, used: list[Tok]) -> None:
        col = self._time_target()
        if col is None:
            return
        for t in used:
            t.used = "time"
        self._mark_time_mention(col)
        low, high = min(low, high), max(low, high)
        if col.is_year:
            self.filters.append(Filter(col.name, "between", [low, high]))
        else:
            self.filters += [
                Filter(col.name, "ge", f"{low:04d}-01-01"),
                Filter(col.name, "lt", f"{high + 1:04d}-01-01"),
            ]
        self.notes.append(f"'{low} to {high}' read as a filter on {col.name}")

    def _date_filter(self, t: Tok) -> None:
        col = self._time_target()
        if col is None or col.is_year:
            return
        k = t.i
        prev = self.toks[k - 1].word if k > 0 else ""
        parts = t.word.split("-")
        year, month = int(parts[0]), int(parts[1])
        if len(parts) == 2:
            self._year_filter(
                year, month, {"since": "ge", "after": "gt", "before": "lt"}.get(prev, "eq"), [t]
            )
            return
        op = {"since": "ge", "after": "gt", "before": "lt", "until": "le"}.get(prev)
        op = op or self._comparator_before(k) or "eq"
        t.used = "time"
        if op == "eq":
            day_end = _next_day(t.word)
            self.filters += [Filter(col.name, "ge", t.word), Filter(col.name, "lt", day_end)]
        else:
            self.filters.append(Filter(col.name, op, t.word))
        self._mark_time_mention(col)
        self.notes.append(f"'{t.raw}' read as a filter on {col.name}")

    def _comparator_before(self, k: int) -> str | None:
        for t in self.toks[max(0, k - 2) : k]:
            if t.word in lx.COMPARATORS:
                t.used = "op"
                return lx.COMPARATORS[t.word]
        return None

    def _mark_time_mention(self, col: ColumnInfo) -> None:
        for m in self.mentions:
            if m.column is col and m.role is None and not self._group_before(m):
                m.role = "filter"

    def _comparisons(self) -> None:
        toks = self.toks
        for k, t in enumerate(toks):
            if t.used:
                continue
            if t.word == "between":
                self._between(k)
                continue
            op = lx.COMPARATORS.get(t.word)
            concept = None
            if t.word in lx.COMPARATIVES and k + 1 < len(toks) and toks[k + 1].word == "than":
                op, concept = lx.COMPARATIVES[t.word]
                toks[k + 1].used = "op"
            if op is None:
                continue
            number = self._number_after(k)
            if number is None:
                continue
            if t.word in ("over", "under") and not self._near_numeric(k):
                continue
            after = number.i + 1
            if after < len(toks) and toks[after].word in lx.TRAILING_COMPARATORS:
                toks[after].used = "op"
            col = self._comparison_column(k, number, concept)
            if col is None:
                continue
            t.used = number.used = "op"
            value = _number_value(number)
            self.filters.append(Filter(col.name, op, value))
            self.notes.append(f"'{t.raw} {number.raw}' read as {col.name} {op} {value}")
        for k, t in enumerate(toks):
            trailing = lx.TRAILING_COMPARATORS.get(t.word)
            if (
                trailing
                and not t.used
                and k > 0
                and toks[k - 1].kind == "num"
                and not toks[k - 1].used
            ):
                number = toks[k - 1]
                col = self._comparison_column(k - 1, number, None)
                if col is None:
                    continue
                t.used = number.used = "op"
                self.filters.append(Filter(col.name, trailing, _number_value(number)))
                self.notes.append(
                    f"'{number.raw} {t.raw}' read as {col.name} {trailing} {number.raw}"
                )

    def _counted_values(self) -> None:
        """ "cars with 4 cylinders": a whole number right before a numeric column."""
        for m in self.mentions:
            k = m.start - 1
            if k < 0 or m.role is not None or m.column.type not in NUMERIC:
                continue
            t = self.toks[k]
            if t.kind != "num" or t.used or t.num is None or not float(t.num).is_integer():
                continue
            if k > 0 and self.toks[k - 1].word in ("top", "bottom", "first", "last"):
                continue
            t.used = "op"
            m.role = "filter"
            self.filters.append(Filter(m.column.name, "eq", int(t.num)))
            self.notes.append(f"'{t.raw} {m.how}' read as {m.column.name} = {int(t.num)}")

    def _between(self, k: int) -> None:
        toks = self.toks
        if k + 3 >= len(toks):
            return
        low, conj, high = toks[k + 1], toks[k + 2], toks[k + 3]
        if low.kind != "num" or high.kind != "num" or conj.word not in ("and", "to") or low.used:
            return
        col = self._comparison_column(k, high, None)
        if col is None:
            return
        for t in (toks[k], low, conj, high):
            t.used = "op"
        values = sorted([_number_value(low), _number_value(high)])
        self.filters.append(Filter(col.name, "between", values))
        self.notes.append(f"'between {low.raw} and {high.raw}' read as a filter on {col.name}")

    def _number_after(self, k: int) -> Tok | None:
        for t in self.toks[k + 1 : k + 3]:
            if t.kind == "num" and not t.used:
                return t
            if t.kind != "word" or t.word not in ("a", "an", "the", "of", "than", "$"):
                return None
        return None

    def _near_numeric(self, k: int) -> bool:
        return any(
            m.column.type in NUMERIC and (abs(m.end - k) <= 3 or abs(m.start - k) <= 4)
            for m in self.mentions
        )

    def _comparison_column(self, k: int, number: Tok, concept: str | None) -> ColumnInfo | None:
        if concept is not None:
            col = self._concept_column(concept)
            if col is not None:
                for m in self.mentions:
                    if m.column is col and m.role is None:
                        m.role = "filter"
                return col
        numeric = [m for m in self.mentions if m.column.type in NUMERIC and m.role != "group"]
        before = [m for m in numeric if m.end <= k and self._only_glue(m.end, k)]
        after = [
            m for m in numeric if m.start > number.i and self._only_glue(number.i + 1, m.start)
        ]
        pick = before[-1] if before else (after[0] if after else None)
        if pick is None:
            near = [m for m in numeric if m.end <= k]
            pick = near[-1] if near else None
        if pick is None:
            return None
        pick.role = pick.role or "filter"
        return pick.column

    def _only_glue(self, start: int, end: int) -> bool:
        glue = {
            "a",
            "an",
            "the",
            "of",
            "is",
            "was",
            "are",
            "were",
            "with",
            "has",
            "had",
            "have",
            "that",
            "which",
            "where",
            "whose",
            "its",
            "their",
            "in",
            "and",
        }
        between = self.toks[start:end]
        return len(between) <= 4 and all(
            t.word in glue or (t.word in lx.UNITS) or t.used == "value" for t in between
        )

    def _concept_column(self, concept: str) -> ColumnInfo | None:
        mentioned = [m.column for m in self.mentions if concept in m.column.content]
        if mentioned:
            return mentioned[0]
        found = [c for c in self.ctx.columns if concept in c.content and c.type in NUMERIC + TIME]
        if len(found) == 1:
            self.notes.append(f"'{concept}' read as {found[0].name}")
            self.links.append(0.9)
            return found[0]
        if len(found) > 1:
            raise AskError(
                "ambiguous",
                f"'{concept}' could be any of {', '.join(c.name for c in found)}; name one.",
                [c.name for c in found],
                word=concept,
            )
        return None

    # -- grouping ----------------------------------------------------------------

    def _group_before(self, m: Mention) -> bool:
        k = m.start - 1
        while k >= 0 and self.toks[k].word in ("the", "a", "and", ",", "number_of"):
            if self.toks[k].word == "and":
                prev = [p for p in self.mentions if p.end == k]
                if prev:
                    return self._group_before(prev[0])
            k -= 1
        return (
            k >= 0
            and self.toks[k].word in lx.GROUP_MARKERS
            and self.toks[k].used in (None, "group")
        )

    def _grouping(self) -> tuple[Bucket | None, list[Mention]]:
        bucket: Bucket | None = None
        groups: list[Mention] = []
        rank_by = self._rank_marker()
        for m in self.mentions:
            if m.role is not None:
                continue
            after = self.toks[m.end] if m.end < len(self.toks) else None
            wise = after is not None and after.word == "wise"
            if (self._group_before(m) and not self._is_rank(m, rank_by)) or wise:
                if wise and after is not None:
                    after.used = "group"
                self._group_tokens(m)
                unit = self._unit_word(m)
                if m.column.type in TIME and unit:
                    bucket = Bucket(m.column.name, unit)
                    m.role = "group"
                    continue
                m.role = "group"
                groups.append(m)
        unit, words = self._bucket_unit()
        if unit and bucket is None:
            target = self._time_target()
            if target is not None and target.is_year and unit == "year":
                if not any(g.column is target for g in groups):
                    groups.insert(0, Mention(-1, -1, target, 1.0, words, "group"))
                    self.notes.append(f"'{words}' read as grouping by {target.name}")
            elif target is not None and target.type in TIME:
                if unit == "hour" and target.type == "date":
                    unit = "day"
                bucket = Bucket(target.name, unit)
                self.notes.append(f"'{words}' read as {unit} of {target.name}")
                for m in self.mentions:
                    if m.column is target and m.role is None:
                        m.role = "group"
            else:
                raise AskError(
                    "unsupported",
                    f"The question asks for '{words}', but the dataset has no date column.",
                    self._all_columns(),
                )
        return bucket, groups

    def _group_tokens(self, m: Mention) -> None:
        k = m.start - 1
        while k >= 0 and self.toks[k].word in ("the", "a", "and", ",", "number_of"):
            if self.toks[k].word == "number_of":
                self.toks[k].used = "group"
            k -= 1
        if k >= 0 and self.toks[k].word in lx.GROUP_MARKERS:
            self.toks[k].used = "group"

    def _unit_word(self, m: Mention) -> str | None:
        words = [t.word for t in self.toks[m.start : m.end]]
        for w in words:
            unit = lx.BUCKETS.get(lx.lemma(w))
            if unit:
                return unit
        return None

    def _bucket_unit(self) -> tuple[str | None, str]:
        toks = self.toks
        for k, t in enumerate(toks):
            if t.used:
                continue
            unit = lx.BUCKETS.get(t.lem)
            prev = toks[k - 1] if k > 0 else None
            if unit and prev is not None and prev.word in ("which", "what") and self._superlative():
                t.used = "bucket"
                self.which_time = True  # "which month had the most rain?"
                return unit, f"{prev.raw} {t.raw}"
            if t.word in lx.BUCKET_ADJECTIVES:
                t.used = "bucket"
                return lx.BUCKETS[t.word], t.raw
            unit = lx.BUCKETS.get(t.lem)
            prev = toks[k - 1] if k > 0 else None
            if unit and prev is not None and prev.word in (*lx.GROUP_MARKERS, "a", "an", "the"):
                t.used = prev.used = "bucket"
                return unit, f"{prev.raw} {t.raw}"
        for t in toks:
            if t.word in TREND_WORDS and not t.used:
                t.used = "bucket"
                return self._auto_unit(), t.raw
        return None, ""

    def _auto_unit(self) -> str:
        target = self._time_target()
        if target is None or target.is_year:
            return "year"
        try:
            import datetime as dt

            low = dt.datetime.fromisoformat(str(target.low))
            high = dt.datetime.fromisoformat(str(target.high))
        except ValueError:
            return "month"
        days = (high - low).total_seconds() / 86400
        if days <= 3:
            return "hour" if target.type == "datetime" else "day"
        if days <= 120:
            return "day"
        if days <= 3 * 365:
            return "week" if days <= 200 else "month"
        if days <= 30 * 365:
            return "month" if days <= 8 * 365 else "year"
        return "year"

    # -- structure ---------------------------------------------------------------

    def _rank_marker(self) -> int | None:
        """Where "top 3 varieties *by* total yield" names what ranks (not a group)."""
        toks = self.toks
        for k, t in enumerate(toks):
            top = t.word in ("top", "bottom", "first", "last") or (
                t.kind == "num" and k + 1 < len(toks) and toks[k + 1].word in lx.SUPERLATIVES
            )
            if not top:
                continue
            for j in range(k + 1, min(k + 8, len(toks))):
                if toks[j].word in RANK_WORDS | {"in", "based"}:
                    return j
        return None

    def _is_rank(self, m: Mention, rank_by: int | None) -> bool:
        if rank_by is None:
            return False
        k = m.start - 1
        while k >= 0 and self.toks[k].word in ("the", "a", "and", ","):
            k -= 1
        return k == rank_by

    def _top(self) -> tuple[int | None, str | None, int | None]:
        """``(n, direction, position)`` of "top 5", "bottom 3", "the 5 heaviest"."""
        toks = self.toks
        for k, t in enumerate(toks):
            if t.word in ("top", "bottom") and not t.used:
                n = 1
                if k + 1 < len(toks) and toks[k + 1].kind == "num":
                    n = int(toks[k + 1].num or 1)
                    toks[k + 1].used = "top"
                t.used = "top"
                return n, "desc" if t.word == "top" else "asc", k
            if (
                t.kind == "num"
                and not t.used
                and k + 1 < len(toks)
                and toks[k + 1].word in lx.SUPERLATIVES
                and t.num is not None
                and float(t.num).is_integer()
                and 0 < t.num <= 10_000
            ):
                t.used = "top"
                return int(t.num), lx.SUPERLATIVES[toks[k + 1].word][0], k + 1
        return None, None, None

    def _assemble(self, bucket: Bucket | None, groups: list[Mention]) -> Plan:
        toks = self.toks
        n_top, top_dir, top_at = self._top()
        mode = self._mode()
        if mode is not None:
            n_top, top_dir, top_at = 1, mode[1], mode[0].start - 1
        counting = any(t.word in lx.COUNT_WORDS and not t.used for t in toks)
        rows_counted = counting and self._counts_rows()
        correlation = any(t.word in lx.CORRELATION_WORDS for t in toks)
        which = None if mode is not None else self._which_group(groups)
        if which is not None:
            groups.append(which)
        measures: list[Measure] = []
        order: list[tuple[str, str]] = []
        limit: int | None = None
        sup = self._superlative()

        if correlation:
            measures.append(self._correlation())
        elif not groups and bucket is None and not counting and n_top is None:
            pair = self._versus()
            if pair is not None:
                return pair

        # a top-N subject that is a category column becomes the group
        if n_top is not None and top_at is not None and not groups:
            subject = self._subject_after(top_at)
            if (
                subject is not None
                and subject.column.type in (*TEXT, "boolean")
                and (not subject.column.identifier or mode is not None)
            ):
                subject.role = "group"
                groups.append(subject)
        self._drop_group_values(groups)

        grouped = bool(groups or bucket)
        if not grouped and not counting and not correlation and self._ranked_rows(n_top, sup):
            return self._listing_plan(n_top, top_dir, sup)
        if which is not None and sup is not None and sup[1] is not None:
            self._concept_measure(sup[1])
        picks_one = which is not None or n_top is not None or self.which_time
        for m in self.mentions:
            if m.role is not None:
                continue
            fn = self._fn_for(m, grouped, picks_one)
            if fn == "distinct" and self._listing_verb() and not counting:
                m.role = "group"  # "list the distinct islands"
                groups.append(m)
                continue
            if m.column.type not in NUMERIC and fn not in ("distinct", "min", "max"):
                if counting and not rows_counted:
                    fn = "distinct"
                elif grouped or counting or measures or not self._listing():
                    if not groups or not (grouped or counting or measures):
                        m.role = "group"
                        groups.append(m)
                        grouped = True
                    continue
                else:
                    m.role = "select"
                    continue
            if fn is None:
                if grouped or not self._listing():
                    fn = self._default_fn(m.column, grouped)
                    self.assumed += 1
                    self.notes.append(f"no aggregate named: {fn} of {m.column.name}")
                else:
                    m.role = "select"
                    continue
            m.role = "measure"
            m.fn = fn
            names = self._range_pair(m)
            if names is None:
                self._check_ambiguous(m)
                names = [m.column.name]
            for name in names:
                measure = Measure(fn, name)
                if measure not in measures:
                    measures.append(measure)

        if rows_counted:
            measures.insert(0, Measure("count"))
        elif picks_one and not measures and (mode is not None or (sup and sup[1] is None)):
            measures.append(Measure("count"))

        for g in groups:
            self._check_ambiguous(g)
        group_by = list(dict.fromkeys(g.column.name for g in groups))

        if picks_one and grouped and measures and not correlation:
            direction = top_dir or (sup[0] if sup else "desc")
            order = [(measures[0].name, direction)]
            limit = n_top or 1
        elif sup is not None and grouped and measures and self._which_like():
            order = [(measures[0].name, sup[0])]
            limit = 1

        if not measures and not group_by and bucket is None:
            return self._listing_plan(n_top, top_dir, sup)
        if not measures and (counting or not self._listing_verb()):
            measures.append(Measure("count"))
        if not any(m.column for m in measures) and self._lost_aggregate():
            raise self.no_column()
        plan = Plan(measures, group_by, bucket, list(self.filters), order, limit, None)
        self._sort_words(plan)
        return plan

    def _lost_aggregate(self) -> bool:
        """ "median order value by region" with no column for "order value": the aggregate
        asked for has nothing to aggregate, so counting rows instead would be made up."""
        return any(t.word in NOMINAL_AGGREGATES and t.used is None for t in self.toks)

    def _concept_measure(self, concept: str) -> None:
        """ "Which species is the heaviest?": the superlative's quantity is the measure."""
        if any(m.role is None and m.column.type in NUMERIC for m in self.mentions):
            return
        col = self._concept_column(concept)
        if col is not None and not any(m.column is col for m in self.mentions):
            self.mentions.append(Mention(len(self.toks), len(self.toks), col, 0.9, concept))

    def _correlation(self) -> Measure:
        numeric = [m for m in self.mentions if m.role is None and m.column.type in NUMERIC]
        if len(numeric) < 2:
            raise AskError(
                "no_column",
                f"A correlation needs two numeric columns; the question names {len(numeric)}.",
                [c.name for c in self.ctx.columns if c.type in NUMERIC],
            )
        a, b = numeric[0], numeric[1]
        for m in (a, b):
            m.role = "measure"
            self._check_ambiguous(m)
        return Measure("corr", a.column.name, b.column.name)

    def _mode(self) -> tuple[Mention, str] | None:
        """ "The most common weather": the category counted, its top value first."""
        toks = self.toks
        for k, t in enumerate(toks[:-1]):
            nxt = toks[k + 1]
            if t.word in ("most", "least") and nxt.word in (
                "common",
                "frequent",
                "popular",
                "usual",
            ):
                subject = self._subject_after(k + 1)
                if subject is not None and subject.column.type in (*TEXT, "boolean", "integer"):
                    t.used = nxt.used = "top"
                    return subject, "desc" if t.word == "most" else "asc"
        return None

    def _drop_group_values(self, groups: list[Mention]) -> None:
        """ "Number of deaths by type": a lone word that is one of the grouped column's
        values names what is counted, not a filter that would leave one group."""
        grouped = {g.column.name for g in groups}
        kept: list[Filter] = []
        for f in self.filters:
            if f.column in grouped and f.op == "eq":
                self.notes.append(f"'{f.value}' not kept as a filter: {f.column} is grouped")
                continue
            kept.append(f)
        self.filters = kept

    def _which_like(self) -> bool:
        return any(t.word in ("which", "what", "who") for t in self.toks)

    def _which_group(self, groups: list[Mention]) -> Mention | None:
        """ "Which island has the most penguins?": the category after which/what is the
        group, when a superlative says which one to pick."""
        toks = self.toks
        if self._superlative() is None:
            return None
        for k, t in enumerate(toks):
            if t.word not in ("which", "what", "who"):
                continue
            for m in self.mentions:
                if m.start > k and m.start <= k + 3 and m.role is None:
                    if m.column.type in NUMERIC and not m.column.is_year:
                        return None
                    if m.column.identifier:
                        return None
                    if any(g.column is m.column for g in groups):
                        return None
                    m.role = "group"
                    return m
        for m in self.mentions:
            # "the species with the highest mass"
            if m.role is None and m.column.type in TEXT and not m.column.identifier:
                nxt = toks[m.end] if m.end < len(toks) else None
                if nxt is not None and nxt.word in (
                    "with",
                    "that",
                    "having",
                    "has",
                    "had",
                    "where",
                ):
                    m.role = "group"
                    return m
        return None

    def _superlative(self) -> tuple[str, str | None] | None:
        for t in self.toks:
            if t.word in lx.SUPERLATIVES and t.used not in ("column",):
                return lx.SUPERLATIVES[t.word]
        return None

    def _subject_after(self, k: int) -> Mention | None:
        for m in self.mentions:
            if m.start > k and m.start <= k + 3 and m.role is None:
                return m
        return None

    def _counts_rows(self) -> bool:
        """Whether "how many"/"number of" count rows ("how many penguins", "number of
        days") rather than a column's distinct values ("how many species")."""
        toks = self.toks
        for k, t in enumerate(toks):
            if t.word not in lx.COUNT_WORDS:
                continue
            nxt = [x for x in toks[k + 1 : k + 4] if x.word not in ("the", "a", "of")]
            if not nxt:
                return True
            first = nxt[0]
            if first.word in lx.DISTINCT_WORDS:
                return False
            if first.used == "column":
                col = next(m for m in self.mentions if m.start <= first.i < m.end)
                if col.role in ("filter", "group", "rows"):
                    return True
                if col.role is None and (col.column.is_year or col.column.type in TIME):
                    col.role = "rows"  # "how many years had ...": each row is one
                    return True
                return False
            return True
        return False

    def _fn_for(self, m: Mention, grouped: bool, picks_one: bool) -> str | None:
        """The aggregate a measure mention asks for: the nearest aggregate word before
        it ("average X and Y" reaches both), one inside it ("maximum temperature"), a
        count word ("how many species": distinct), a superlative ("longest flipper")."""
        k = m.start - 1
        toks = self.toks
        while k >= 0:
            t = toks[k]
            if t.word in lx.DISTINCT_WORDS:
                return "distinct"
            if t.word in lx.COUNT_WORDS and not t.used:
                if m.column.type in NUMERIC and not picks_one:
                    return None  # "number of cylinders" is the column itself
                return "distinct" if m.column.type not in NUMERIC else None
            fn = lx.AGGREGATES.get(t.word)
            if fn is not None and not t.used:
                adjective = t.word not in ("maximum", "minimum", "max", "min")
                if (
                    adjective
                    and t.word in lx.SUPERLATIVES
                    and (picks_one or (grouped and self._which_like()))
                ):
                    k -= 1
                    continue
                t.used = "aggregate"
                return fn
            if t.word in lx.SUPERLATIVES and not t.used:
                direction, concept = lx.SUPERLATIVES[t.word]
                if concept is None or concept in m.column.content:
                    if picks_one:
                        return None
                    return "max" if direction == "desc" else "min"
            if t.word in ("the", "a", "an", "of", "and", ",", "is", "was", "what", "s") or (
                t.used == "column"
            ):
                k -= 1
                continue
            break
        inside = [lx.AGGREGATES.get(t.word) for t in toks[m.start : m.end]]
        named = [f for f in inside if f]
        if named and not any(t.word in lx.AGGREGATES and not t.used for t in toks):
            return named[0]
        if not picks_one and not (grouped and self._which_like()):
            for t in toks[m.end :]:
                sup = lx.SUPERLATIVES.get(t.word)
                if sup and not t.used and sup[1] is not None and sup[1] in m.column.content:
                    t.used = "aggregate"
                    return "max" if sup[0] == "desc" else "min"
        return None

    def _default_fn(self, col: ColumnInfo, grouped: bool) -> str:
        if col.content & lx.ADDITIVE or any(w in lx.ADDITIVE for w in col.words):
            return "sum" if grouped else "mean"
        return "mean"

    def _listing(self) -> bool:
        return self._listing_verb() or any(t.used == "rows" for t in self.toks)

    def _listing_verb(self) -> bool:
        return any(
            t.word in ("show", "list", "display", "give", "rows", "records", "entries")
            for t in self.toks
        )

    def _ranked_rows(self, n_top: int | None, sup: tuple[str, str | None] | None) -> bool:
        """ "top 5 cars by horsepower", "which car has the highest mpg": rows ranked,
        not groups, where the subject is the dataset's own noun (or an identifier)."""
        if n_top is None and sup is None:
            return False
        nouns = ("maximum", "minimum", "max", "min")
        if any(
            t.word in lx.AGGREGATES and (t.word not in lx.SUPERLATIVES or t.word in nouns)
            for t in self.toks
        ):
            return False
        rows = any(t.used == "rows" for t in self.toks)
        ident = any(m.column.identifier and m.role is None for m in self.mentions)
        return rows or ident

    def _listing_plan(
        self, n_top: int | None, top_dir: str | None, sup: tuple[str, str | None] | None
    ) -> Plan:
        chosen = [m for m in self.mentions if m.role in ("select", None, "measure")]
        for m in chosen:
            m.role = "select"
        rows_asked = any(t.used == "rows" for t in self.toks) or self._listing()
        order: list[tuple[str, str]] = []
        key: ColumnInfo | None = None
        if sup is not None or n_top is not None:
            direction, concept = sup or ("desc", None)
            if concept is not None:
                key = self._concept_column(concept)
            if key is None:
                numeric = [m.column for m in chosen if m.column.type in NUMERIC + TIME]
                key = numeric[0] if numeric else None
            if key is not None:
                order = [(key.name, top_dir or direction)]
        if not rows_asked and not order and not chosen:
            raise self.no_column()
        if not rows_asked and not order:
            raise self.no_column()
        if not chosen and not order and not self.filters and self._loose():
            raise self.no_column()  # "show me sales": listing every row would be made up
        select = None
        if chosen and len(self.ctx.columns) > 12:
            names = [c.name for c in self.ctx.columns if c.identifier][:1]
            names += [m.column.name for m in chosen]
            if key is not None:
                names.append(key.name)
            names += [f.column for f in self.filters]
            select = list(dict.fromkeys(names))
        limit = n_top or (1 if order and not self._plural_subject() else None)
        if limit is None and order:
            limit = 10
        if limit is None:
            limit = 1_000
        return Plan([], [], None, list(self.filters), order, limit, select)

    def _versus(self) -> Plan | None:
        """ "horsepower vs mpg", "plot weight against acceleration": two numeric columns
        set against each other, with no aggregate named, are the rows' pairs (a
        scatter), not two averages."""
        toks = self.toks
        if not any(t.word in ("vs", "versus", "against") for t in toks):
            return None
        if any(t.word in lx.AGGREGATES for t in toks):
            return None
        numeric = [m for m in self.mentions if m.role is None and m.column.type in NUMERIC]
        if len(numeric) != 2:
            return None
        for m in numeric:
            self._check_ambiguous(m)
            m.role = "select"
        labels = [c.name for c in self.ctx.columns if c.identifier and c.type in TEXT][:1]
        select = list(dict.fromkeys([*(m.column.name for m in numeric), *labels]))
        return Plan([], [], None, list(self.filters), [], MAX_PAIRS, select)

    def _plural_subject(self) -> bool:
        return any(t.used == "rows" and t.word != t.lem for t in self.toks) or any(
            t.word in ("show", "list") for t in self.toks
        )

    def _sort_words(self, plan: Plan) -> None:
        toks = self.toks
        words = {t.word for t in toks}
        if plan.order or not plan.measures:
            return
        direction = None
        if words & lx.DESCENDING_WORDS or {"highest", "largest"} & words and "to" in words:
            direction = "desc"
        elif words & lx.ASCENDING_WORDS:
            direction = "asc"
        if "order_by" in words or "sort" in words or "rank" in words or "ranked" in words:
            direction = direction or "desc"
        if direction:
            plan.order = [(plan.measures[0].name, direction)]

    # -- checks and scores -------------------------------------------------------

    def _range_pair(self, m: Mention) -> list[str] | None:
        """ "Average temperature" over ``temp_max`` and ``temp_min``: the same quantity
        measured as a range, so the answer shows both (said in the notes) rather than
        picking one or refusing. Only for columns whose names differ by nothing but
        an extremum word; "length" over sepal and petal lengths stays ambiguous."""
        if not m.alternatives or len(m.alternatives) > 2:
            return None
        cols = [m.column, *(self.ctx.column(a) for a in m.alternatives)]
        if any(c.type not in NUMERIC for c in cols):
            return None
        rest = {c.content - lx.EXTREMA for c in cols}
        marks = [c.content & lx.EXTREMA for c in cols]
        if len(rest) != 1 or not next(iter(rest)) or not all(marks):
            return None
        self.assumed += 1
        names = [c.name for c in cols]
        self.notes = [n for n in self.notes if n != f"'{m.how}' read as {m.column.name}"]
        self.notes.append(f"'{m.how}' read as each of {', '.join(names)}")
        return names

    def _check_ambiguous(self, m: Mention) -> None:
        if m.alternatives:
            names = [m.column.name, *m.alternatives]
            shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            raise AskError(
                "ambiguous",
                f"'{m.how}' could be any of {shown}; name the column you mean.",
                names[:50],
                word=m.how,
            )

    def _may_be_null(self, name: str) -> bool:
        col = self.ctx.column(name)
        return col.nulls > 0 or self.ctx.sampled_rows < self.ctx.rows

    def _loose(self) -> list[str]:
        """The question's content words that nothing read."""
        return [t.raw for t in self.toks if self._content(t) and not t.used]

    def no_column(self) -> AskError:
        loose = self._loose()
        what = f" ({', '.join(repr(w) for w in loose[:5])} matches none)" if loose else ""
        return AskError(
            "no_column",
            f"The question names no column of {self.ctx.name}{what}.",
            self._candidates(loose),
            words=loose[:20],
        )

    def _candidates(self, loose: list[str]) -> list[str]:
        names = [c.name for c in self.ctx.columns]
        if not loose or len(names) <= 20:
            return names[:50]
        matrix = self.ctx.embeddings()
        from .embed import embed

        vectors = embed([" ".join(loose)])
        if matrix is None or vectors is None:
            return names[:20]
        order = np.argsort(-(vectors @ matrix.T)[0])[:10]
        return [names[int(i)] for i in order]

    def _all_columns(self) -> list[str]:
        return [c.name for c in self.ctx.columns][:50]

    def _confidence(self) -> float:
        links = [m.score for m in self.mentions if m.role is not None] + self.links
        unlinked = sum(1 for t in self.toks if self._content(t) and not t.used)
        base = min(links) if links else 0.5
        score = base / (1 + 0.5 * unlinked) * 0.85**self.assumed
        return round(max(0.0, min(1.0, score)), 3)


_TIME_OPS = {
    "since": "ge",
    "from": "ge",
    "after": "gt",
    "before": "lt",
    "until": "le",
    "till": "le",
}


def _number_value(t: Tok) -> int | float:
    value = float(t.num or 0)
    return int(value) if value.is_integer() and "." not in t.raw else value


def _next_day(iso: str) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(iso) + dt.timedelta(days=1)).isoformat()

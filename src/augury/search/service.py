"""Global search: one index over an organization's objects, kept current as they change.

**Keeping it current.** A domain declares how each searchable table becomes an index
row (a :class:`Searchable`: the model, a kind, the columns whose change re-indexes it,
and a function that builds the :class:`Entry`), and the composition root installs them
(:func:`install`). From then on every flush that inserts, changes (one of those columns)
or deletes such an object upserts or deletes its ``search_entry`` row in the same
transaction, whichever service, job or CLI command made the change: no service can
forget to, and a rolled-back change leaves no row behind. Objects written with Core
statements (metrics, created by the ingestion writer in bulk) call :func:`index_rows`.
Rows whose object went by a cascade the ORM did not see are never shown: a search keeps
only hits whose object still exists.

**Searching.** The database's own full-text index (SQLite FTS5 with diacritics folded,
PostgreSQL's tsvector with the title weighted above the body) finds every word of the
query, the last one as a prefix (search as you type); hits are ranked by relevance
(BM25, ``ts_rank_cd``) and come with their title and body highlighted. A query never
reaches another organization's rows, nor rows above the caller's role.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, event, inspect, select, text
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.models import ROLE_RANK, Role
from augury.accounts.principal import Principal
from augury.search.models import SearchEntry
from augury.store.base import UTCDateTime
from augury.store.upsert import insert_for

KINDS = (
    "chart",
    "dashboard",
    "dataset",
    "metric",
    "alert",
    "anomaly",
    "forecast",
    "member",
    "use_case",
    "data_source",
    "data_stream",
)
MAX_HITS = 1000
"""Hits ranked per query before existence and paging (the rest are less relevant)."""

_WORD = re.compile(r"[^\W_]+")
_TIMES = {"created_at": UTCDateTime(), "updated_at": UTCDateTime()}


@dataclass(frozen=True)
class Entry:
    """What the index holds of one object."""

    title: str
    body: str
    link: str
    min_role: Role = Role.viewer


@dataclass(frozen=True)
class Searchable:
    """How objects of ``model`` are indexed as ``kind``: ``entry(obj, conn)`` builds the
    row (``conn`` reads what the object does not hold, in the flush's transaction);
    a change to one of ``fields`` re-indexes it."""

    model: type
    kind: str
    fields: tuple[str, ...]
    entry: Callable[[Any, Connection], Entry]


@dataclass(frozen=True)
class Touch:
    """A change to an object of ``model`` re-indexes another one: ``parent(obj)`` gives
    its class and id (a dataset's new version brings new column names)."""

    model: type
    parent: Callable[[Any], tuple[type, int]]


@dataclass(frozen=True)
class Related:
    """Hits of ``kind`` found through hits of ``through`` (anomalies through their
    metric): ``find(session, org_id, hits)`` returns them, newest first."""

    kind: str
    through: str
    find: Callable[[Session, int, list[Hit]], list[Hit]]


@dataclass
class _Registry:
    by_model: dict[type, Searchable] = field(default_factory=dict)
    by_kind: dict[str, Any] = field(default_factory=dict)
    """Kind to model class (an ORM class with ``id`` and ``org_id``)."""
    touches: dict[type, Touch] = field(default_factory=dict)
    related: list[Related] = field(default_factory=list)


_registry = _Registry()


def install(
    searchables: Iterable[Searchable],
    touches: Iterable[Touch] = (),
    related: Iterable[Related] = (),
) -> None:
    """Index these objects from now on, in every session (idempotent)."""
    for s in searchables:
        if s.kind not in KINDS:
            raise ValueError(f"unknown search kind {s.kind!r}")
        _registry.by_model[s.model] = s
        _registry.by_kind[s.kind] = s.model
    for t in touches:
        _registry.touches[t.model] = t
    for r in related:
        if r not in _registry.related:
            _registry.related.append(r)
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


def _changed(obj: Any, fields: Sequence[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _after_flush(session: Session, _context: Any) -> None:
    if not _registry.by_model:
        return
    upserts: list[tuple[Searchable, Any]] = []
    removed: list[tuple[str, int, int]] = []
    for obj in session.new:
        s = _registry.by_model.get(type(obj))
        if s is not None:
            upserts.append((s, obj))
    for obj in session.dirty:
        s = _registry.by_model.get(type(obj))
        if s is not None and _changed(obj, s.fields):
            upserts.append((s, obj))
    for obj in [*session.new, *session.dirty]:
        touch = _registry.touches.get(type(obj))
        if touch is not None:
            cls, parent_id = touch.parent(obj)
            parent = session.get(cls, parent_id)
            if parent is not None and parent not in session.deleted:
                upserts.append((_registry.by_model[cls], parent))
    for obj in session.deleted:
        s = _registry.by_model.get(type(obj))
        if s is not None:
            removed.append((s.kind, obj.org_id, obj.id))
    if not upserts and not removed:
        return
    conn = session.connection()
    now = clock.now()
    rows = []
    for s, obj in upserts:
        entry = s.entry(obj, conn)
        rows.append(_row(s.kind, obj.org_id, obj.id, entry, getattr(obj, "created_at", None), now))
    _upsert(session, conn, rows)
    for kind, org_id, object_id in removed:
        conn.execute(
            delete(SearchEntry).where(
                SearchEntry.org_id == org_id,
                SearchEntry.kind == kind,
                SearchEntry.object_id == object_id,
            )
        )


def _row(
    kind: str, org_id: int, object_id: int, entry: Entry, created: datetime | None, now: datetime
) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "kind": kind,
        "object_id": object_id,
        "title": entry.title[:500],
        "body": entry.body,
        "link": entry.link[:500],
        "min_role": str(entry.min_role),
        "created_at": created or now,
        "updated_at": now,
    }


def _upsert(session: Session, conn: Connection, rows: list[dict[str, Any]]) -> None:
    # One row per object, the last state winning (an object added and changed in one
    # flush is listed once by SQLAlchemy, but be safe for PostgreSQL's ON CONFLICT).
    unique = list({(r["org_id"], r["kind"], r["object_id"]): r for r in rows}.values())
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        stmt = insert_for(session, SearchEntry.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=["org_id", "kind", "object_id"],
            set_={
                name: stmt.excluded[name]
                for name in ("title", "body", "link", "min_role", "updated_at")
            },
        )
        conn.execute(stmt, chunk)


def index_rows(
    session: Session, kind: str, rows: Sequence[tuple[int, int, Entry]], *, replace: bool = False
) -> None:
    """Index objects written without the ORM: ``(org_id, object_id, entry)`` each;
    ``replace=False`` leaves rows already indexed as they are (the ingestion writer
    calls this for every metric it looks up, new or not)."""
    if not rows:
        return
    now = clock.now()
    values = [_row(kind, org, oid, entry, None, now) for org, oid, entry in rows]
    if replace:
        _upsert(session, session.connection(), values)
        return
    for start in range(0, len(values), 500):
        stmt = insert_for(session, SearchEntry.__table__).on_conflict_do_nothing(
            index_elements=["org_id", "kind", "object_id"]
        )
        session.execute(stmt, values[start : start + 500])


def reindex(session: Session, *, only_if_empty: bool = False) -> int:
    """Index every searchable object again (objects stored before the index existed,
    or after it was lost); ``only_if_empty``: only when the index has no row at all.
    Returns how many objects were indexed."""
    if only_if_empty and session.scalar(select(SearchEntry.id).limit(1)) is not None:
        return 0
    conn = session.connection()
    now = clock.now()
    count = 0
    for s in _registry.by_model.values():
        batch: list[dict[str, Any]] = []
        obj: Any
        for obj in session.scalars(select(s.model)).yield_per(500):
            entry = s.entry(obj, conn)
            batch.append(
                _row(s.kind, obj.org_id, obj.id, entry, getattr(obj, "created_at", None), now)
            )
            if len(batch) == 500:
                _upsert(session, conn, batch)
                count += len(batch)
                batch = []
        _upsert(session, conn, batch)
        count += len(batch)
    return count


# ----------------------------------------------------------------------- search


@dataclass
class Hit:
    kind: str
    object_id: int
    title: str
    body: str
    link: str
    score: float
    title_html: str
    snippet_html: str
    created_at: datetime
    updated_at: datetime


def _role_rank(principal: Principal) -> int:
    if principal.key_id is not None:
        return ROLE_RANK[Role.admin] if "admin" in principal.scopes else ROLE_RANK[Role.viewer]
    return principal.role.rank if principal.role is not None else -1


def search(
    session: Session,
    principal: Principal,
    q: str,
    *,
    kinds: Sequence[str] | None = None,
) -> list[Hit]:
    """The caller's organization's objects that match every word of ``q``, most
    relevant first (at most :data:`MAX_HITS`), each one that still exists."""
    words = [w.lower() for w in _WORD.findall(q)][:32]
    if not words:
        return []
    allowed = [str(r) for r, rank in ROLE_RANK.items() if rank <= _role_rank(principal)]
    wanted = set(kinds or KINDS)
    through = {r.through for r in _registry.related if r.kind in wanted}
    indexed = sorted((wanted | through) - {r.kind for r in _registry.related})
    if not indexed:
        return []
    if session.get_bind().dialect.name == "postgresql":
        raw = _search_postgresql(session, principal.org_id, words, indexed, allowed)
    else:
        raw = _search_sqlite(session, principal.org_id, words, indexed, allowed)
    hits = _existing(session, principal.org_id, raw)
    for r in _registry.related:
        if r.kind in wanted:
            found = [h for h in hits if h.kind == r.through]
            hits.extend(r.find(session, principal.org_id, found) if found else [])
    hits = [h for h in hits if h.kind in wanted]
    hits.sort(key=lambda h: -h.score)
    return hits[:MAX_HITS]


def _search_sqlite(session, org_id, words, kinds, allowed) -> list[Hit]:
    match = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
    kind_clause = ""
    params: dict[str, Any] = {"m": match.strip(), "org": org_id, "lim": MAX_HITS}
    if kinds:
        kind_clause = " AND e.kind IN (" + ", ".join(f":k{i}" for i in range(len(kinds))) + ")"
        params.update({f"k{i}": k for i, k in enumerate(kinds)})
    roles = ", ".join(f":r{i}" for i in range(len(allowed)))
    params.update({f"r{i}": r for i, r in enumerate(allowed)})
    sql = text(
        "SELECT e.kind, e.object_id, e.title, e.body, e.link, "
        "bm25(search_entry_fts, 10.0, 1.0) AS score, e.created_at, e.updated_at "
        "FROM search_entry_fts JOIN search_entry e ON e.id = search_entry_fts.rowid "
        f"WHERE search_entry_fts MATCH :m AND e.org_id = :org AND e.min_role IN ({roles})"
        f"{kind_clause} ORDER BY score LIMIT :lim"
    )
    rows = session.execute(sql.columns(**_TIMES), params).all()
    return [_hit(row, -float(row[5]), words) for row in rows]


def _search_postgresql(session, org_id, words, kinds, allowed) -> list[Hit]:
    query = " & ".join(f"'{w}'" for w in words[:-1])
    last = f"'{words[-1]}':*"
    query = f"{query} & {last}" if query else last
    vector = (
        "setweight(to_tsvector('simple', e.title), 'A') || "
        "setweight(to_tsvector('simple', e.body), 'B')"
    )
    params: dict[str, Any] = {"q": query, "org": org_id, "lim": MAX_HITS, "roles": allowed}
    kind_clause = ""
    if kinds:
        kind_clause = " AND e.kind = ANY(:kinds)"
        params["kinds"] = list(kinds)
    sql = text(
        "SELECT e.kind, e.object_id, e.title, e.body, e.link, "
        f"ts_rank_cd({vector}, to_tsquery('simple', :q)) AS score, "
        "e.created_at, e.updated_at "
        f"FROM search_entry e WHERE ({vector}) @@ to_tsquery('simple', :q) "
        f"AND e.org_id = :org AND e.min_role = ANY(:roles){kind_clause} "
        "ORDER BY score DESC, e.updated_at DESC LIMIT :lim"
    )
    rows = session.execute(sql.columns(**_TIMES), params).all()
    return [_hit(row, float(row[5]), words) for row in rows]


def _hit(row, score: float, words: list[str]) -> Hit:
    kind, object_id, title, body, link, _, created, updated = row
    return Hit(
        kind=kind,
        object_id=object_id,
        title=title,
        body=body,
        link=link,
        score=score,
        title_html=highlight(title, words),
        snippet_html=highlight(body, words, window=SNIPPET_WORDS),
        created_at=created,
        updated_at=updated,
    )


SNIPPET_WORDS = 16


def _fold(word: str) -> str:
    """Lower case without diacritics, as FTS5's ``remove_diacritics`` compares."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def highlight(value: str, words: Sequence[str], *, window: int | None = None) -> str:
    """``value`` HTML-escaped with the words of a query in ``<mark>`` (the last word as
    a prefix, as the search matched it); with ``window``, only about that many words
    around the first match (the whole of a short text), ``…`` where cut.

    Done here rather than by the database so both dialects mark the same words and no
    text is lost (PostgreSQL's ``ts_headline`` drops anything that looks like a tag).

    >>> highlight("Orders <2024> & more", ["orders"])
    '<mark>Orders</mark> &lt;2024&gt; &amp; more'
    >>> highlight("Café au lait", ["cafe", "la"])
    '<mark>Café</mark> au <mark>lait</mark>'
    """
    folded = [_fold(w) for w in words]
    whole, prefix = set(folded[:-1]), folded[-1] if folded else None

    def hit(token: str) -> bool:
        f = _fold(token)
        return f in whole or (prefix is not None and f.startswith(prefix))

    tokens = list(_WORD.finditer(value))
    start, end = 0, len(value)
    if window is not None and len(tokens) > window:
        first = next((i for i, t in enumerate(tokens) if hit(t.group())), 0)
        lo = max(0, min(first - window // 4, len(tokens) - window))
        hi = min(len(tokens), lo + window)
        start = tokens[lo].start() if lo > 0 else 0
        end = tokens[hi].start() if hi < len(tokens) else len(value)
    out, at = [], start
    for t in tokens:
        if t.start() < start or t.end() > end:
            continue
        out.append(html.escape(value[at : t.start()]))
        text_ = html.escape(t.group())
        out.append(f"<mark>{text_}</mark>" if hit(t.group()) else text_)
        at = t.end()
    out.append(html.escape(value[at:end]))
    marked = "".join(out).strip()
    return ("…" if start > 0 else "") + marked + ("…" if end < len(value) else "")


def _existing(session: Session, org_id: int, hits: list[Hit]) -> list[Hit]:
    """Drop hits whose object is gone (deleted by a cascade, or by a Core statement)."""
    alive: dict[str, set[int]] = {}
    for kind in {h.kind for h in hits}:
        model = _registry.by_kind.get(kind)
        if model is None:
            alive[kind] = set()
            continue
        ids = [h.object_id for h in hits if h.kind == kind]
        found: set[int] = set()
        for start in range(0, len(ids), 500):
            found.update(
                session.scalars(
                    select(model.id).where(
                        model.id.in_(ids[start : start + 500]), model.org_id == org_id
                    )
                )
            )
        alive[kind] = found
    return [h for h in hits if h.object_id in alive[h.kind]]

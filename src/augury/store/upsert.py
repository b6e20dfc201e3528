"""``INSERT ... ON CONFLICT`` for SQLite and PostgreSQL through one call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import FromClause
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: FromClause):
    """The dialect's ``insert(table)``, which has ``on_conflict_do_*``."""
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def upsert(
    session: Session,
    table: FromClause,
    rows: Sequence[Mapping[str, object]],
    *,
    keys: Sequence[str],
    update: Sequence[str] | None = None,
    add: Sequence[str] = (),
) -> None:
    """Insert ``rows``; on a conflict on ``keys`` overwrite ``update`` and add to ``add``.

    With neither ``update`` nor ``add`` a conflicting row is left as it is. ``rows`` must
    not repeat a key (PostgreSQL refuses to touch one row twice in a statement).
    """
    if not rows:
        return
    stmt = insert_for(session, table)
    if not update and not add:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    else:
        values = {name: stmt.excluded[name] for name in update or ()}
        values.update({name: table.c[name] + stmt.excluded[name] for name in add})
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=values)
    session.execute(stmt, list(rows))

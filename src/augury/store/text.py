"""Text search in SQL that reads the same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement


def escape_like(text: str) -> str:
    r"""``text`` for a LIKE pattern with ``\`` as the escape character: its ``%`` and
    ``_`` match themselves.

    >>> escape_like("50%_off")
    '50\\%\\_off'
    """
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column, text: str) -> ColumnElement[bool]:
    """``column`` holds ``text`` anywhere, in any case (``lower()`` on both sides, so
    PostgreSQL and SQLite agree; a ``%`` or ``_`` typed in a search box is literal)."""
    return func.lower(column).like(f"%{escape_like(text.lower())}%", escape="\\")

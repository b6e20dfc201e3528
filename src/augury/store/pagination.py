"""One generic page for every list: ``offset``/``limit`` in, ``Page[T]`` out.

Services take a :class:`PageParams` and return rows and a total (:func:`paginate`);
the HTTP layer reads ``?offset=&limit=`` into one (``augury.api.pagination``).
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

MAX_LIMIT = 1000


class PageParams(BaseModel):
    offset: int = 0
    limit: int = 50


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int
    has_more: bool


def paginate(session: Session, stmt: Select, page: PageParams) -> tuple[list, int]:
    """Rows of ``stmt`` for this page and the total count, in one helper for every list."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(session.scalars(stmt.offset(page.offset).limit(page.limit)))
    return rows, int(total or 0)


def make_page(items: list, total: int, page: PageParams) -> dict:
    return {
        "items": items,
        "total": total,
        "offset": page.offset,
        "limit": page.limit,
        "has_more": page.offset + len(items) < total,
    }

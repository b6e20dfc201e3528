"""``?offset=&limit=`` read into a :class:`~augury.store.pagination.PageParams`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from augury.store.pagination import MAX_LIMIT, Page, PageParams, make_page, paginate

__all__ = ["Page", "PageDep", "PageParams", "make_page", "page_params", "paginate"]


def page_params(
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows to return.")] = 50,
) -> PageParams:
    return PageParams(offset=offset, limit=limit)


PageDep = Annotated[PageParams, Depends(page_params)]

"""Reading one organization's row by id: the check every domain's ``get`` needs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.errors import NotFound


def get_owned(session: Session, model, org_id: int, row_id: int, what: str | None = None):
    """The ``model`` row ``row_id`` of organization ``org_id``, else RESOURCE_NOT_FOUND
    (another organization's row does not exist for the caller)."""
    row = session.scalar(select(model).where(model.id == row_id, model.org_id == org_id))
    if row is None:
        raise NotFound(f"{what or model.__name__} not found.")
    return row

"""Checks several alerting services share."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from augury.errors import ValidationFailed


def check_ids(
    session: Session, model, org_id: int, ids: list[int], field: str, *where: ColumnElement[bool]
) -> None:
    """Refuse ids (of channels, actions, configurations) that are not the organization's,
    or that fail ``where`` (channels: :func:`~augury.alerts.models.ordinary_channel`)."""
    if not ids:
        return
    stmt = select(model.id).where(model.org_id == org_id, model.id.in_(ids), *where)
    found = set(session.scalars(stmt))
    missing = sorted(set(ids) - found)
    if missing:
        raise ValidationFailed(f"Unknown {field}: {missing}.", details={field: missing})

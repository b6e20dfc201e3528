"""Checks several alerting services share."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.errors import ValidationFailed


def check_ids(session: Session, model, org_id: int, ids: list[int], field: str) -> None:
    """Refuse ids (of channels, actions, configurations) that are not the organization's."""
    if not ids:
        return
    found = set(session.scalars(select(model.id).where(model.org_id == org_id, model.id.in_(ids))))
    missing = sorted(set(ids) - found)
    if missing:
        raise ValidationFailed(f"Unknown {field}: {missing}.", details={field: missing})

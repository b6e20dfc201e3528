"""Response bodies of the audit log API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    action: str
    outcome: str
    actor_user_id: int | None
    actor_key_id: int | None
    actor_email: str | None
    target_type: str | None
    target_id: str | None
    ip: str | None
    details: dict
    created_at: datetime

"""Read-only links to one dashboard.

A link's token is 32 random bytes (URL-safe base64 behind ``augsh_``), shown once when
the link is made; only its SHA-256 is stored, so a copy of the database opens nothing.
Whoever holds a live token reads that dashboard and its tiles' data, nothing else: the
token is no credential anywhere else in the API (the auth dependencies take access
tokens and API keys only). A revoked, expired or unknown token is one and the same 404.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.dashboards.models import Dashboard, DashboardShare
from augury.dashboards.schemas import ShareCreate
from augury.errors import NotFound
from augury.store.owned import get_owned

PREFIX = "augsh_"
TOUCH_EVERY_S = 60.0
"""``last_used_at`` is written at most once a minute per link (a wall of iframes on
auto-refresh would otherwise write on every read)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    *, session: Session, principal: Principal, dashboard: Dashboard, body: ShareCreate
) -> tuple[DashboardShare, str]:
    """A new link to ``dashboard`` and its token (the only time the token is known)."""
    token = PREFIX + secrets.token_urlsafe(32)
    share = DashboardShare(
        org_id=dashboard.org_id,
        dashboard_id=dashboard.id,
        token_hash=hash_token(token),
        label=body.label,
        expires_at=body.expires_at,
        created_by_id=principal.user_id,
    )
    session.add(share)
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="dashboard.share.create",
        target_type="dashboard",
        target_id=dashboard.id,
        after={"share_id": share.id, "label": share.label},
    )
    return share, token


def list_for(session: Session, dashboard: Dashboard) -> list[DashboardShare]:
    stmt = select(DashboardShare).where(DashboardShare.dashboard_id == dashboard.id)
    return list(session.scalars(stmt.order_by(DashboardShare.id.desc())))


def get(session: Session, dashboard: Dashboard, share_id: int) -> DashboardShare:
    share = get_owned(session, DashboardShare, dashboard.org_id, share_id, "Share link")
    if share.dashboard_id != dashboard.id:
        raise NotFound("Share link not found.")
    return share


def revoke(*, session: Session, principal: Principal, share: DashboardShare) -> None:
    """End the link now (kept, revoked, so the list shows what was shared and when)."""
    if share.revoked_at is None:
        share.revoked_at = clock.now()
        audit.record_change(
            session=session,
            principal=principal,
            action="dashboard.share.revoke",
            target_type="dashboard",
            target_id=share.dashboard_id,
            before={"share_id": share.id, "label": share.label},
        )


def _live(share: DashboardShare, now: datetime) -> bool:
    if share.revoked_at is not None:
        return False
    return share.expires_at is None or share.expires_at > now


def open_shared(session: Session, token: str) -> Dashboard:
    """The dashboard a live token opens; the same 404 for any other token."""
    share = None
    if token.startswith(PREFIX) and len(token) < 200:
        share = session.scalar(
            select(DashboardShare).where(DashboardShare.token_hash == hash_token(token))
        )
    now = clock.now()
    if share is None or not _live(share, now):
        raise NotFound("This link does not exist, or it was revoked or has expired.")
    last = share.last_used_at
    if last is None or (now - last).total_seconds() >= TOUCH_EVERY_S:
        share.last_used_at = now
    dashboard = session.get(Dashboard, share.dashboard_id)
    assert dashboard is not None  # the link goes with its dashboard (ON DELETE CASCADE)
    return dashboard


def fields(share: DashboardShare, token: str | None = None) -> dict:
    return {
        "id": share.id,
        "dashboard_id": share.dashboard_id,
        "label": share.label,
        "expires_at": share.expires_at,
        "revoked_at": share.revoked_at,
        "last_used_at": share.last_used_at,
        "created_at": share.created_at,
        "token": token,
        "url": f"/share/dashboards/{token}" if token else None,
    }

"""API keys: creating, listing and revoking them, and the principal a key stands for.

A key's secret is shown once and stored hashed; a key never has more power than the
person who created it, and the work done with it is accounted to that person.
Functions never commit (the caller's unit of work does).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts import security
from augury.accounts.models import ApiKey, Role
from augury.accounts.principal import Principal, max_scopes_for
from augury.audit import service as audit
from augury.errors import AuthenticationFailed, NotFound, PermissionDenied, ValidationFailed
from augury.store.pagination import PageParams, paginate

# API keys record use at most this often, so a busy sender does not write on every call.
KEY_TOUCH_INTERVAL = timedelta(seconds=60)


def create_api_key(
    *,
    session: Session,
    principal: Principal,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key for the organization; its secret is returned once and stored hashed."""
    principal.require_user()
    if not scopes:
        raise ValidationFailed("A key needs at least one scope.", details={"field": "scopes"})
    allowed = max_scopes_for(principal.role or Role.viewer)
    if not set(scopes) <= allowed:
        raise PermissionDenied(
            "A key cannot have more power than its creator.",
            details={"allowed_scopes": sorted(allowed)},
        )
    if expires_at is not None and expires_at <= clock.now():
        raise ValidationFailed("expires_at must be in the future.", details={"field": "expires_at"})
    secret, prefix = security.new_api_key()
    key = ApiKey(
        org_id=principal.org_id,
        name=name,
        prefix=prefix,
        key_hash=security.hash_token(secret),
        scopes=sorted(set(scopes)),
        created_by_id=principal.user_id,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    audit.record_by(
        session=session,
        principal=principal,
        action="api_key.create",
        target_type="api_key",
        target_id=key.id,
        details={"name": name, "scopes": key.scopes},
    )
    return key, secret


def list_api_keys(
    *, session: Session, principal: Principal, page: PageParams, include_revoked: bool = False
) -> tuple[list[ApiKey], int]:
    """Keys of the organization (admins see all, others the ones they created)."""
    stmt = select(ApiKey).where(ApiKey.org_id == principal.org_id)
    if not principal.can("admin"):
        stmt = stmt.where(ApiKey.created_by_id == principal.user_id)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return paginate(session, stmt.order_by(ApiKey.id.desc()), page)


def revoke_api_key(*, session: Session, principal: Principal, key_id: int) -> ApiKey:
    """Revoke a key: it stops working at once."""
    key = session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.org_id == principal.org_id)
    )
    if key is None:
        raise NotFound("API key not found.")
    if key.created_by_id != principal.user_id or principal.key_id is not None:
        principal.require("admin")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        audit.record_by(
            session=session,
            principal=principal,
            action="api_key.revoke",
            target_type="api_key",
            target_id=key.id,
            details={"name": key.name},
        )
    return key


def principal_from_api_key(*, session: Session, secret: str, ip: str | None = None) -> Principal:
    """Verify an API key and record its use."""
    if not secret.startswith(security.API_KEY_PREFIX):
        raise AuthenticationFailed("Invalid API key.")
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == security.hash_token(secret)))
    now = clock.now()
    if key is None or key.revoked_at is not None:
        raise AuthenticationFailed("Invalid or revoked API key.")
    if key.expires_at is not None and key.expires_at <= now:
        raise AuthenticationFailed("API key expired.")
    if key.last_used_at is None or now - key.last_used_at >= KEY_TOUCH_INTERVAL:
        key.last_used_at = now
    # Work done with a key is accounted to the person who created it (consumptions, audit).
    return Principal(
        org_id=key.org_id,
        key_id=key.id,
        user_id=key.created_by_id,
        scopes=frozenset(key.scopes),
        ip=ip,
    )

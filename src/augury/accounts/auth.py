"""Logins: sign-up, login with its throttle, refresh-token rotation, switching
organization, logout, and the principal an access token stands for.

A login is a family of ``auth_session`` rows, one per refresh token: refreshing rotates
into a new row, and a rotated token presented again revokes the family. Failed logins
are throttled per (account, client address) from the audit log, never by locking the
account. Functions never commit (the caller's unit of work does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts import security
from augury.accounts.models import AuthSession, Membership, Organization, Role, User
from augury.accounts.organizations import create_organization
from augury.accounts.principal import Principal
from augury.accounts.users import (
    create_user,
    current_user,
    get_user_by_email,
    normalize_email,
    user_created,
)
from augury.audit import service as audit
from augury.audit.models import AuditEvent
from augury.config import Settings
from augury.errors import AuthenticationFailed, PermissionDenied, RateLimited

# Failed logins for one account from one address (since its last success there, inside
# the window) before that address must wait; the wait doubles with each further failure.
# Other addresses, the owner's included, are not slowed down: nobody can lock an account.
LOGIN_FAILURES_ALLOWED = 5
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
LOGIN_FIRST_WAIT = timedelta(seconds=30)
# A refresh token rotated this recently and presented again is taken for two tabs of one
# browser renewing at once (the web UI then reads the new token the other tab stored),
# not for a stolen copy: refused, but the login goes on.
REFRESH_REUSE_GRACE = timedelta(seconds=10)


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    organization: Organization
    role: str


# --- sign-up -------------------------------------------------------------------------


def signup(
    *,
    session: Session,
    settings: Settings,
    email: str,
    password: str,
    name: str | None,
    organization_name: str | None,
    ip: str | None = None,
) -> tuple[User, Organization]:
    """Sign up: the user is created with a new organization they own."""
    if not settings.auth.allow_signup:
        raise PermissionDenied("Sign-up is disabled on this server; ask for an invitation.")
    user = create_user(
        session=session, settings=settings, email=email, password=password, name=name
    )
    org = create_organization(
        session=session,
        owner=user,
        name=organization_name or f"{name or user.email}'s organization",
    )
    audit.record(
        session=session,
        action="user.signup",
        org_id=org.id,
        actor_user_id=user.id,
        actor_email=user.email,
        target_type="user",
        target_id=user.id,
        ip=ip,
    )
    user_created(session, org.id, user, role="owner", via="signup")
    return user, org


# --- memberships a login may act in --------------------------------------------------


def active_membership(session: Session, user_id: int, org_id: int) -> Membership | None:
    """The user's membership of ``org_id`` unless it is disabled (or absent)."""
    return session.scalar(
        select(Membership).where(
            Membership.user_id == user_id,
            Membership.org_id == org_id,
            Membership.disabled_at.is_(None),
        )
    )


def _pick_org(session: Session, user: User, org_id: int | None) -> Membership:
    if org_id is not None:
        membership = active_membership(session, user.id, org_id)
        if membership is None:
            raise PermissionDenied("You are not an active member of this organization.")
        return membership
    if user.default_org_id is not None:
        membership = active_membership(session, user.id, user.default_org_id)
        if membership is not None:
            return membership
    membership = session.scalar(
        select(Membership)
        .where(Membership.user_id == user.id, Membership.disabled_at.is_(None))
        .order_by(Membership.id)
    )
    if membership is None:
        raise AuthenticationFailed("This account belongs to no active organization.")
    return membership


# --- tokens --------------------------------------------------------------------------


def issue_tokens(
    session: Session,
    settings: Settings,
    user: User,
    membership: Membership,
    auth_session: AuthSession | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    """An access and a refresh token for ``user`` acting in ``membership``'s organization:
    a new login, or (given its current ``auth_session``) the next token of one."""
    now = clock.now()
    refresh = security.new_token()
    expires_at = now + timedelta(days=settings.auth.refresh_token_days)
    if auth_session is None:
        auth_session = AuthSession(
            user_id=user.id,
            org_id=membership.org_id,
            family_id=security.new_token(16),
            refresh_hash=security.hash_token(refresh),
            expires_at=expires_at,
            ip=ip,
            user_agent=(user_agent or "")[:400] or None,
        )
    else:
        # Rotate: the old token is remembered (reuse detection) until it would expire.
        previous = auth_session
        previous.rotated_at = now
        session.execute(
            delete(AuthSession).where(
                AuthSession.family_id == previous.family_id,
                AuthSession.rotated_at.is_not(None),
                AuthSession.expires_at <= now,
            )
        )
        auth_session = AuthSession(
            user_id=user.id,
            org_id=membership.org_id,
            family_id=previous.family_id,
            refresh_hash=security.hash_token(refresh),
            expires_at=expires_at,
            last_used_at=now,
            ip=previous.ip,
            user_agent=previous.user_agent,
        )
    session.add(auth_session)
    session.flush()
    access, _expires = security.encode_access_token(
        key=settings.signing_key,
        user_id=user.id,
        org_id=membership.org_id,
        session_id=auth_session.id,
        minutes=settings.auth.access_token_minutes,
    )
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=settings.auth.access_token_minutes * 60,
        user=user,
        organization=membership.organization,
        role=membership.role,
    )


# --- login ---------------------------------------------------------------------------


def _login_failures(session: Session, email: str, ip: str | None) -> list[datetime]:
    """Failed logins for ``email`` from ``ip`` inside the window, since its last success."""
    rows = session.execute(
        select(AuditEvent.created_at, AuditEvent.outcome)
        .where(
            AuditEvent.action == "auth.login",
            AuditEvent.outcome.in_(("failure", "success")),
            AuditEvent.actor_email == email,
            AuditEvent.ip == ip if ip is not None else AuditEvent.ip.is_(None),
            AuditEvent.created_at >= clock.now() - LOGIN_FAILURE_WINDOW,
        )
        .order_by(AuditEvent.created_at, AuditEvent.id)
    )
    failures: list[datetime] = []
    for created_at, outcome in rows:
        failures = [] if outcome == "success" else [*failures, created_at]
    return failures


def _login_wait(failures: list[datetime]) -> timedelta | None:
    """How long the address must still wait before its next attempt, if at all."""
    if len(failures) < LOGIN_FAILURES_ALLOWED:
        return None
    delay = min(
        LOGIN_FAILURE_WINDOW, LOGIN_FIRST_WAIT * 2 ** (len(failures) - LOGIN_FAILURES_ALLOWED)
    )
    wait = failures[-1] + delay - clock.now()
    return wait if wait > timedelta(0) else None


def _audit_login(session: Session, **fields) -> None:
    # Stamped with augury's clock (the column default reads the wall clock directly),
    # so the throttle's arithmetic stays on one clock.
    audit.record(session=session, action="auth.login", **fields).created_at = clock.now()


def login(
    *,
    session: Session,
    settings: Settings,
    email: str,
    password: str,
    organization_id: int | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    """Check the password and open a session; failures are audited, and repeated ones
    from one address make that address wait (429) for that account only.

    The caller must commit even when this raises, so failures stay in the audit log.
    """
    email = normalize_email(email)
    user = get_user_by_email(session=session, email=email)
    org_for_audit = user.default_org_id if user else None
    failures = _login_failures(session, email, ip)
    wait = _login_wait(failures)
    if wait is not None:
        retry = math.ceil(wait.total_seconds())
        _audit_login(
            session,
            outcome="throttled",
            org_id=org_for_audit,
            actor_email=email,
            actor_user_id=user.id if user else None,
            ip=ip,
            details={"failures": len(failures), "retry_after": retry},
        )
        raise RateLimited(
            retry,
            f"Too many failed logins for this account from your address; "
            f"try again in {retry} seconds.",
        )
    ok = security.verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.is_active:
        _audit_login(
            session,
            outcome="failure",
            org_id=org_for_audit,
            actor_email=email,
            actor_user_id=user.id if user else None,
            ip=ip,
            details={"reason": "disabled" if ok and user else "bad_credentials"},
        )
        raise AuthenticationFailed("Invalid email or password.")
    membership = _pick_org(session, user, organization_id)
    user.last_login_at = clock.now()
    pair = issue_tokens(session, settings, user, membership, ip=ip, user_agent=user_agent)
    _audit_login(
        session,
        org_id=membership.org_id,
        actor_user_id=user.id,
        actor_email=email,
        ip=ip,
        target_type="session",
    )
    return pair


# --- ending logins -------------------------------------------------------------------


def revoke_family(session: Session, family_id: str) -> None:
    """End one login: every refresh token of its family, and its access tokens."""
    session.execute(
        update(AuthSession)
        .where(AuthSession.family_id == family_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def end_logins(
    session: Session,
    user_id: int,
    *,
    org_id: int | None = None,
    keep_session: int | None = None,
) -> None:
    """End the user's logins (those acting in ``org_id`` only, if given), except the
    login the session ``keep_session`` belongs to."""
    stmt = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if org_id is not None:
        stmt = stmt.where(AuthSession.org_id == org_id)
    kept = session.get(AuthSession, keep_session) if keep_session is not None else None
    if kept is not None:
        stmt = stmt.where(AuthSession.family_id != kept.family_id)
    session.execute(stmt.values(revoked_at=clock.now()))


def _session_by_refresh(session: Session, refresh_token: str, ip: str | None) -> AuthSession:
    auth_session = session.scalar(
        select(AuthSession).where(AuthSession.refresh_hash == security.hash_token(refresh_token))
    )
    if (
        auth_session is None
        or auth_session.revoked_at is not None
        or auth_session.expires_at <= clock.now()
    ):
        raise AuthenticationFailed("Invalid or expired refresh token.")
    if auth_session.rotated_at is not None:
        if clock.now() - auth_session.rotated_at < REFRESH_REUSE_GRACE:
            raise AuthenticationFailed("This refresh token was just renewed; use the new one.")
        # Used before: a copy is in someone else's hands too. End the whole login.
        revoke_family(session, auth_session.family_id)
        user = session.get(User, auth_session.user_id)
        audit.record(
            session=session,
            action="auth.refresh_reuse",
            outcome="failure",
            org_id=auth_session.org_id,
            actor_user_id=auth_session.user_id,
            actor_email=user.email if user else None,
            ip=ip,
            target_type="session",
            target_id=auth_session.family_id,
            details={"rotated_at": auth_session.rotated_at.isoformat()},
        )
        raise AuthenticationFailed(
            "This refresh token was already used, so the login was ended; log in again."
        )
    return auth_session


def refresh(
    *, session: Session, settings: Settings, refresh_token: str, ip: str | None = None
) -> TokenPair:
    """Exchange a refresh token for a new pair; the old refresh token stops working, and
    presenting it again ends the whole login (every token of its family).

    The caller must commit even when this raises, so a detected reuse stays revoked.
    """
    auth_session = _session_by_refresh(session, refresh_token, ip)
    user = session.get(User, auth_session.user_id)
    if user is None or not user.is_active:
        raise AuthenticationFailed("Account disabled.")
    membership = active_membership(session, user.id, auth_session.org_id)
    if membership is None:
        revoke_family(session, auth_session.family_id)
        raise AuthenticationFailed("Your membership of this organization is no longer active.")
    return issue_tokens(session, settings, user, membership, auth_session=auth_session)


def switch_organization(
    *, session: Session, settings: Settings, principal: Principal, org_id: int
) -> TokenPair:
    """Move the current login to another organization the user belongs to."""
    user = current_user(session=session, principal=principal)
    membership = _pick_org(session, user, org_id)
    auth_session = session.get(AuthSession, principal.session_id) if principal.session_id else None
    pair = issue_tokens(session, settings, user, membership, auth_session=auth_session)
    audit.record(
        session=session,
        action="auth.switch_org",
        org_id=org_id,
        target_type="organization",
        target_id=org_id,
        **principal.audit_actor(),
    )
    return pair


def logout(*, session: Session, principal: Principal) -> None:
    """End the current login: its access and refresh tokens stop working."""
    principal.require_user()
    auth_session = session.get(AuthSession, principal.session_id) if principal.session_id else None
    if auth_session is not None:
        revoke_family(session, auth_session.family_id)
    audit.record_by(session=session, principal=principal, action="auth.logout")


def principal_from_access_token(
    *, session: Session, settings: Settings, token: str, ip: str | None = None
) -> Principal:
    """Verify a JWT and that its login, user and membership are all still valid."""
    claims = security.decode_access_token(token, key=settings.signing_key)
    auth_session = session.get(AuthSession, int(claims["sid"]))
    if auth_session is None or auth_session.revoked_at is not None:
        raise AuthenticationFailed("This session has ended; log in again.")
    user = session.get(User, int(claims["sub"]))
    if user is None or not user.is_active:
        raise AuthenticationFailed("Account disabled.")
    membership = active_membership(session, user.id, int(claims["org"]))
    if membership is None:
        raise AuthenticationFailed("Your membership of this organization is no longer active.")
    return Principal(
        org_id=membership.org_id,
        user_id=user.id,
        role=Role(membership.role),
        session_id=auth_session.id,
        email=user.email,
        ip=ip,
    )

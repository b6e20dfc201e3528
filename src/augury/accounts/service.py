"""Accounts: sign-up, login sessions, passwords, organizations, members, invitations, keys.

Functions take a session and plain values, raise ``augury.errors`` exceptions and never
commit (the caller's unit of work does). Every query on org-owned rows filters by org.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts import security
from augury.accounts.models import (
    ApiKey,
    AuthSession,
    Invitation,
    Membership,
    Organization,
    PasswordReset,
    Role,
    User,
)
from augury.accounts.principal import Principal, max_scopes_for
from augury.audit import service as audit
from augury.audit.models import AuditEvent
from augury.config import Settings
from augury.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from augury.runtime.mail import send_mail
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate

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
# API keys record use at most this often, so a busy sender does not write on every call.
KEY_TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    organization: Organization
    role: str


# --- users and sign-up -------------------------------------------------------------


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(*, session: Session, email: str) -> User | None:
    """The user with this email, if any."""
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def _check_password(settings: Settings, password: str) -> None:
    if len(password) < settings.auth.min_password_length:
        raise ValidationFailed(
            f"Password must have at least {settings.auth.min_password_length} characters.",
            details={"field": "password"},
        )


def create_user(
    *, session: Session, settings: Settings, email: str, password: str, name: str | None = None
) -> User:
    """A new user (no organization yet); Conflict if the email is taken."""
    _check_password(settings, password)
    email = normalize_email(email)
    if get_user_by_email(session=session, email=email):
        raise Conflict("A user with this email already exists.", details={"field": "email"})
    user = User(email=email, name=name, password_hash=security.hash_password(password))
    session.add(user)
    session.flush()
    return user


def create_organization(
    *, session: Session, owner: User, name: str, description: str | None = None
) -> Organization:
    """A new organization whose owner is ``owner``."""
    org = Organization(name=name, description=description)
    session.add(org)
    session.flush()
    session.add(Membership(org_id=org.id, user_id=owner.id, role=Role.owner))
    if owner.default_org_id is None:
        owner.default_org_id = org.id
    session.flush()
    audit.record(
        session=session,
        action="org.create",
        org_id=org.id,
        actor_user_id=owner.id,
        actor_email=owner.email,
        target_type="organization",
        target_id=org.id,
    )
    return org


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
    return user, org


# --- login sessions ----------------------------------------------------------------


def _active_membership(session: Session, user_id: int, org_id: int) -> Membership | None:
    return session.scalar(
        select(Membership).where(
            Membership.user_id == user_id,
            Membership.org_id == org_id,
            Membership.disabled_at.is_(None),
        )
    )


def _pick_org(session: Session, user: User, org_id: int | None) -> Membership:
    if org_id is not None:
        membership = _active_membership(session, user.id, org_id)
        if membership is None:
            raise PermissionDenied("You are not an active member of this organization.")
        return membership
    if user.default_org_id is not None:
        membership = _active_membership(session, user.id, user.default_org_id)
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


def _issue(
    session: Session,
    settings: Settings,
    user: User,
    membership: Membership,
    auth_session: AuthSession | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
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
    pair = _issue(session, settings, user, membership, ip=ip, user_agent=user_agent)
    _audit_login(
        session,
        org_id=membership.org_id,
        actor_user_id=user.id,
        actor_email=email,
        ip=ip,
        target_type="session",
    )
    return pair


def _revoke_family(session: Session, family_id: str) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.family_id == family_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


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
        _revoke_family(session, auth_session.family_id)
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
    membership = _active_membership(session, user.id, auth_session.org_id)
    if membership is None:
        _revoke_family(session, auth_session.family_id)
        raise AuthenticationFailed("Your membership of this organization is no longer active.")
    return _issue(session, settings, user, membership, auth_session=auth_session)


def switch_organization(
    *, session: Session, settings: Settings, principal: Principal, org_id: int
) -> TokenPair:
    """Move the current login to another organization the user belongs to."""
    principal.require_user()
    user = session.get(User, principal.user_id)
    membership = _pick_org(session, user, org_id)
    auth_session = session.get(AuthSession, principal.session_id)
    pair = _issue(session, settings, user, membership, auth_session=auth_session)
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
    auth_session = session.get(AuthSession, principal.session_id)
    if auth_session is not None:
        _revoke_family(session, auth_session.family_id)
    audit.record(
        session=session, action="auth.logout", org_id=principal.org_id, **principal.audit_actor()
    )


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
    membership = _active_membership(session, user.id, int(claims["org"]))
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


# --- passwords -----------------------------------------------------------------------


def _revoke_sessions(session: Session, user_id: int, keep: int | None = None) -> None:
    """End the user's logins, except the one session ``keep`` belongs to."""
    stmt = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if keep is not None:
        kept = session.get(AuthSession, keep)
        stmt = stmt.where(AuthSession.family_id != kept.family_id)
    session.execute(stmt.values(revoked_at=clock.now()))


def _password_changed(session: Session, user: User, keep_session: int | None = None) -> None:
    """After any change of password: other logins end, unused reset tokens die."""
    _revoke_sessions(session, user.id, keep=keep_session)
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=clock.now())
    )


def change_password(
    *, session: Session, settings: Settings, principal: Principal, current: str, new: str
) -> None:
    """Change one's password; other logins of this user are ended."""
    principal.require_user()
    user = session.get(User, principal.user_id)
    if not security.verify_password(current, user.password_hash):
        audit.record(
            session=session,
            action="user.password_change",
            outcome="failure",
            org_id=principal.org_id,
            **principal.audit_actor(),
        )
        # Not 401: the login itself is fine, and a client must not refresh and retry.
        raise ValidationFailed("Current password is wrong.", details={"field": "current_password"})
    _check_password(settings, new)
    user.password_hash = security.hash_password(new)
    _password_changed(session, user, keep_session=principal.session_id)
    audit.record(
        session=session,
        action="user.password_change",
        org_id=principal.org_id,
        **principal.audit_actor(),
    )


def request_password_reset(
    *, session: Session, settings: Settings, email: str, ip: str | None = None
) -> None:
    """Mail a reset link if the account exists; answers the same either way."""
    user = get_user_by_email(session=session, email=email)
    audit.record(
        session=session,
        action="user.password_reset_request",
        org_id=user.default_org_id if user else None,
        actor_email=normalize_email(email),
        actor_user_id=user.id if user else None,
        ip=ip,
        outcome="success" if user else "unknown_email",
    )
    if user is None or not user.is_active:
        return
    token = security.new_token()
    minutes = settings.auth.reset_token_minutes
    session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=security.hash_token(token),
            expires_at=clock.now() + timedelta(minutes=minutes),
        )
    )
    session.flush()
    link = f"{settings.base_url.rstrip('/')}/reset-password?token={token}"
    send_mail(
        settings,
        to=user.email,
        subject="Reset your augury password",
        text=(
            f"Someone asked to reset the password of {user.email} on augury.\n\n"
            f"Open this link within {minutes} minutes to choose a new one:\n{link}\n\n"
            f"Or use this token with POST /api/v1/auth/password/reset:\n{token}\n\n"
            "If it was not you, ignore this mail: your password stays as it is.\n"
        ),
        html=(
            f"<p>Someone asked to reset the password of <b>{user.email}</b> on augury.</p>"
            f'<p><a href="{link}">Choose a new password</a> (valid {minutes} minutes).</p>'
            "<p>If it was not you, ignore this mail.</p>"
        ),
    )


def reset_password(*, session: Session, settings: Settings, token: str, new: str) -> None:
    """Set a new password with a mailed token; this and every other reset token of the
    user stop working, and all logins end."""
    reset = session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == security.hash_token(token))
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= clock.now():
        raise AuthenticationFailed("Invalid or expired reset token.")
    _check_password(settings, new)
    user = session.get(User, reset.user_id)
    user.password_hash = security.hash_password(new)
    _password_changed(session, user)
    audit.record(
        session=session,
        action="user.password_reset",
        org_id=user.default_org_id,
        actor_user_id=user.id,
        actor_email=user.email,
    )


# --- organizations and members ---------------------------------------------------


def list_organizations(*, session: Session, user_id: int) -> list[tuple[Organization, str]]:
    """Organizations the user is an active member of, with the user's role in each."""
    rows = session.execute(
        select(Organization, Membership.role)
        .join(Membership, Membership.org_id == Organization.id)
        .where(Membership.user_id == user_id, Membership.disabled_at.is_(None))
        .order_by(Organization.id)
    )
    return [(org, role) for org, role in rows]


def get_organization(*, session: Session, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound("Organization not found.")
    return org


def update_organization(
    *, session: Session, principal: Principal, org_id: int, changes: dict
) -> Organization:
    """Rename or describe the current organization (admins)."""
    if org_id != principal.org_id:
        raise NotFound("Organization not found.")
    principal.require("admin")
    org = get_organization(session=session, org_id=org_id)
    for field, value in changes.items():
        setattr(org, field, value)
    audit.record(
        session=session,
        action="org.update",
        org_id=org_id,
        target_type="organization",
        target_id=org_id,
        details={"fields": sorted(changes)},
        **principal.audit_actor(),
    )
    return org


def list_members(
    *, session: Session, org_id: int, page: PageParams, include_disabled: bool = True
) -> tuple[list[Membership], int]:
    """Members of one organization."""
    stmt = select(Membership).where(Membership.org_id == org_id).order_by(Membership.id)
    if not include_disabled:
        stmt = stmt.where(Membership.disabled_at.is_(None))
    return paginate(session, stmt, page)


def get_member_or_raise(*, session: Session, org_id: int, member_id: int) -> Membership:
    return get_owned(session, Membership, org_id, member_id, "Member")


def _active_owner_count(session: Session, org_id: int) -> int:
    return session.scalar(
        select(func.count()).where(
            Membership.org_id == org_id,
            Membership.role == Role.owner,
            Membership.disabled_at.is_(None),
        )
    )


def update_member(
    *,
    session: Session,
    principal: Principal,
    member_id: int,
    role: Role | None = None,
    disabled: bool | None = None,
) -> Membership:
    """Change a member's role or disable/enable them, keeping at least one active owner."""
    principal.require("admin")
    member = get_member_or_raise(session=session, org_id=principal.org_id, member_id=member_id)
    touches_owner = member.role == Role.owner or role == Role.owner
    if touches_owner and not principal.can("owner"):
        raise PermissionDenied("Only an owner can grant, change or disable an owner.")
    loses_owner = (
        member.role == Role.owner
        and member.disabled_at is None
        and ((role is not None and role != Role.owner) or disabled)
    )
    if loses_owner and _active_owner_count(session, principal.org_id) <= 1:
        raise Conflict("An organization needs at least one active owner.")
    changes: dict = {}
    if role is not None and role != member.role:
        changes["role"] = [member.role, role.value]
        member.role = role
    if disabled is not None and disabled != (member.disabled_at is not None):
        member.disabled_at = clock.now() if disabled else None
        changes["disabled"] = disabled
        if disabled:
            session.execute(
                update(AuthSession)
                .where(
                    AuthSession.user_id == member.user_id,
                    AuthSession.org_id == member.org_id,
                    AuthSession.revoked_at.is_(None),
                )
                .values(revoked_at=clock.now())
            )
    if changes:
        action = "member.role_change" if "role" in changes else "member.update"
        audit.record(
            session=session,
            action=action,
            org_id=principal.org_id,
            target_type="member",
            target_id=member.id,
            details={"user_email": member.user.email, **changes},
            **principal.audit_actor(),
        )
    return member


# --- invitations ---------------------------------------------------------------------


def invite(
    *, session: Session, settings: Settings, principal: Principal, email: str, role: Role
) -> tuple[Invitation, str]:
    """Invite someone by email with a role; returns the invitation and its secret token."""
    principal.require("admin")
    if role == Role.owner and not principal.can("owner"):
        raise PermissionDenied("Only an owner can invite an owner.")
    email = normalize_email(email)
    existing_user = get_user_by_email(session=session, email=email)
    if existing_user is not None and session.scalar(
        select(Membership.id).where(
            Membership.user_id == existing_user.id, Membership.org_id == principal.org_id
        )
    ):
        raise Conflict("This person is already a member.", details={"email": email})
    pending = session.scalar(
        select(Invitation).where(
            Invitation.org_id == principal.org_id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > clock.now(),
        )
    )
    if pending is not None:
        raise Conflict("This person was already invited.", details={"invitation_id": pending.id})
    token = security.new_token()
    invitation = Invitation(
        org_id=principal.org_id,
        email=email,
        role=role,
        token_hash=security.hash_token(token),
        invited_by_id=principal.user_id,
        expires_at=clock.now() + timedelta(days=settings.auth.invitation_days),
    )
    session.add(invitation)
    session.flush()
    org = session.get(Organization, principal.org_id)
    link = f"{settings.base_url.rstrip('/')}/accept-invitation?token={token}"
    send_mail(
        settings,
        to=email,
        subject=f"You are invited to {org.name} on augury",
        text=(
            f"{principal.email or 'Someone'} invited you to join {org.name} on augury "
            f"as {role.value}.\n\nAccept within {settings.auth.invitation_days} days:\n{link}\n\n"
            f"Or use this token with POST /api/v1/invitations/accept:\n{token}\n"
        ),
        html=(
            f"<p>{principal.email or 'Someone'} invited you to join <b>{org.name}</b> on augury "
            f'as {role.value}.</p><p><a href="{link}">Accept the invitation</a></p>'
        ),
    )
    audit.record(
        session=session,
        action="invitation.create",
        org_id=principal.org_id,
        target_type="invitation",
        target_id=invitation.id,
        details={"email": email, "role": role.value},
        **principal.audit_actor(),
    )
    return invitation, token


def list_invitations(
    *, session: Session, org_id: int, page: PageParams, pending_only: bool = True
) -> tuple[list[Invitation], int]:
    """Invitations of one organization, newest first."""
    stmt = select(Invitation).where(Invitation.org_id == org_id)
    if pending_only:
        stmt = stmt.where(
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > clock.now(),
        )
    return paginate(session, stmt.order_by(Invitation.id.desc()), page)


def revoke_invitation(*, session: Session, principal: Principal, invitation_id: int) -> None:
    """Withdraw a pending invitation."""
    principal.require("admin")
    invitation = session.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.org_id == principal.org_id
        )
    )
    if invitation is None:
        raise NotFound("Invitation not found.")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already accepted.")
    invitation.revoked_at = invitation.revoked_at or clock.now()
    audit.record(
        session=session,
        action="invitation.revoke",
        org_id=principal.org_id,
        target_type="invitation",
        target_id=invitation.id,
        **principal.audit_actor(),
    )


def accept_invitation(
    *,
    session: Session,
    settings: Settings,
    token: str,
    password: str,
    name: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    """Join with an invitation token: new people choose a password, members prove theirs."""
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == security.hash_token(token))
    )
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= clock.now()
    ):
        raise AuthenticationFailed("Invalid or expired invitation.")
    user = get_user_by_email(session=session, email=invitation.email)
    if user is None:
        user = create_user(
            session=session, settings=settings, email=invitation.email, password=password, name=name
        )
    elif not security.verify_password(password, user.password_hash):
        raise AuthenticationFailed("This email already has an account: give its password.")
    membership = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.org_id == invitation.org_id
        )
    )
    if membership is None:
        membership = Membership(org_id=invitation.org_id, user_id=user.id, role=invitation.role)
        session.add(membership)
    else:
        membership.role, membership.disabled_at = invitation.role, None
    if user.default_org_id is None:
        user.default_org_id = invitation.org_id
    invitation.accepted_at = clock.now()
    user.last_login_at = clock.now()
    session.flush()
    session.refresh(membership)
    audit.record(
        session=session,
        action="invitation.accept",
        org_id=invitation.org_id,
        actor_user_id=user.id,
        actor_email=user.email,
        ip=ip,
        target_type="invitation",
        target_id=invitation.id,
    )
    return _issue(session, settings, user, membership, ip=ip, user_agent=user_agent)


# --- API keys ------------------------------------------------------------------------


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
    allowed = max_scopes_for(principal.role)
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
    audit.record(
        session=session,
        action="api_key.create",
        org_id=principal.org_id,
        target_type="api_key",
        target_id=key.id,
        details={"name": name, "scopes": key.scopes},
        **principal.audit_actor(),
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
        audit.record(
            session=session,
            action="api_key.revoke",
            org_id=principal.org_id,
            target_type="api_key",
            target_id=key.id,
            details={"name": key.name},
            **principal.audit_actor(),
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

"""Passwords: changing one's own, and resetting a forgotten one with a mailed token.

A change of password, by either path, ends the user's other logins and kills every
unused reset token, so that whoever knew the old password or held an old mail is out.
Functions never commit (the caller's unit of work does).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts import security
from augury.accounts.auth import end_logins
from augury.accounts.models import PasswordReset, User
from augury.accounts.principal import Principal
from augury.accounts.users import (
    check_password,
    current_user,
    get_user,
    get_user_by_email,
    normalize_email,
)
from augury.audit import service as audit
from augury.config import Settings
from augury.errors import AuthenticationFailed, ValidationFailed
from augury.mail import send_mail


def _password_changed(session: Session, user: User, keep_session: int | None = None) -> None:
    """After any change of password: other logins end, unused reset tokens die."""
    end_logins(session, user.id, keep_session=keep_session)
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=clock.now())
    )


def change_password(
    *, session: Session, settings: Settings, principal: Principal, current: str, new: str
) -> None:
    """Change one's password; other logins of this user are ended."""
    user = current_user(session=session, principal=principal)
    if not security.verify_password(current, user.password_hash):
        audit.record_by(
            session=session,
            principal=principal,
            action="user.password_change",
            outcome="failure",
        )
        # Not 401: the login itself is fine, and a client must not refresh and retry.
        raise ValidationFailed("Current password is wrong.", details={"field": "current_password"})
    check_password(settings, new)
    user.password_hash = security.hash_password(new)
    _password_changed(session, user, keep_session=principal.session_id)
    audit.record_by(
        session=session,
        principal=principal,
        action="user.password_change",
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
    check_password(settings, new)
    user = get_user(session=session, user_id=reset.user_id)
    user.password_hash = security.hash_password(new)
    _password_changed(session, user)
    audit.record(
        session=session,
        action="user.password_reset",
        org_id=user.default_org_id,
        actor_user_id=user.id,
        actor_email=user.email,
    )

"""People: finding, creating and editing user rows, and the password rule every path
that sets a password applies (sign-up, invitation, change, reset, the CLI).

Functions take a session and plain values or a schema, raise ``augury.errors``
exceptions and never commit (the caller's unit of work does).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.accounts import security
from augury.accounts.models import User
from augury.accounts.principal import Principal
from augury.accounts.schemas import MeUpdate
from augury.config import Settings
from augury.errors import Conflict, NotFound, ValidationFailed
from augury.events import service as events


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(*, session: Session, email: str) -> User | None:
    """The user with this email, if any."""
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def get_user(*, session: Session, user_id: int) -> User:
    """The user ``user_id``; NotFound if there is none."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found.")
    return user


def current_user(*, session: Session, principal: Principal) -> User:
    """The person acting (refused for API keys, which act for nobody in particular)."""
    principal.require_user()
    assert principal.user_id is not None  # require_user() guarantees it
    return get_user(session=session, user_id=principal.user_id)


def check_password(settings: Settings, password: str) -> None:
    """VALIDATION_ERROR unless ``password`` meets the server's rule."""
    if len(password) < settings.auth.min_password_length:
        raise ValidationFailed(
            f"Password must have at least {settings.auth.min_password_length} characters.",
            details={"field": "password"},
        )


def create_user(
    *, session: Session, settings: Settings, email: str, password: str, name: str | None = None
) -> User:
    """A new user (no organization yet); Conflict if the email is taken."""
    check_password(settings, password)
    email = normalize_email(email)
    if get_user_by_email(session=session, email=email):
        raise Conflict("A user with this email already exists.", details={"field": "email"})
    user = User(email=email, name=name, password_hash=security.hash_password(password))
    session.add(user)
    session.flush()
    return user


def user_created(session: Session, org_id: int, user: User, *, role: str, via: str) -> None:
    """The platform event of a new account, in the organization it joined: by sign-up
    (its own new one) or by an invitation (``via``)."""
    events.emit(
        session,
        org_id=org_id,
        type="user.created",
        data={
            "user_id": user.id,
            "email": user.email,
            "name": user.name,
            "role": role,
            "via": via,
        },
        user_id=user.id,
    )


def update_profile(*, session: Session, principal: Principal, changes: MeUpdate) -> User:
    """Change the acting person's own profile (the fields ``changes`` sets)."""
    user = current_user(session=session, principal=principal)
    for field, value in changes.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    return user

"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from augury.accounts.models import Role, Scope
from augury.schemas import StrictModel, UtcDatetime


class Strict(StrictModel):
    """Inputs refuse unknown fields (a typo must not be silently ignored) and NUL."""


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Password = Field(min_length=1, max_length=1024)


class SignupIn(Strict):
    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)
    name: str | None = Field(None, max_length=200)
    organization_name: str | None = Field(None, min_length=1, max_length=200)


class LoginIn(Strict):
    email: str = Field(min_length=1, max_length=320)
    password: str = Password
    organization_id: int | None = Field(None, ge=1, le=2**31 - 1)


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=1, max_length=512)


class SwitchIn(Strict):
    organization_id: int = Field(ge=1, le=2**31 - 1)


class PasswordChangeIn(Strict):
    current_password: str = Password
    new_password: str = Password


class PasswordForgotIn(Strict):
    email: EmailStr


class PasswordResetIn(Strict):
    token: str = Field(min_length=1, max_length=512)
    new_password: str = Password


class OrganizationRef(Read):
    id: int
    name: str


class UserRead(Read):
    id: int
    email: str
    name: str | None
    created_at: datetime
    last_login_at: datetime | None


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserRead
    organization: OrganizationRef
    role: Role


LANGUAGES = ("en",)
"""The languages the UI is written in (``preferences.language``)."""

Theme = Literal["light", "dark", "system"]
Language = Literal[LANGUAGES]  # type: ignore[valid-type]


def _zone(name: str | None) -> str | None:
    """An IANA time zone name the server knows (``Europe/Paris``), else a 422."""
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name, e.g. Europe/Paris)"
        ) from exc
    return name


class Preferences(BaseModel):
    """How the UI shows things to one person: ``system`` follows the browser's light or
    dark setting; every time shown is in ``timezone`` (``null``: the browser's zone)."""

    theme: Theme = "system"
    language: Language = "en"
    timezone: str | None = None

    _valid_zone = field_validator("timezone")(_zone)


class PreferencesUpdate(Strict):
    """The preferences to change; the others stay as they are, and one given as
    ``null`` goes back to its default."""

    theme: Theme | None = None
    language: Language | None = None
    timezone: str | None = Field(None, min_length=1, max_length=64)

    _valid_zone = field_validator("timezone")(_zone)


class MembershipRef(BaseModel):
    id: int
    name: str
    role: Role


class MeOut(UserRead):
    organization: OrganizationRef
    preferences: Preferences
    role: Role
    organizations: list[MembershipRef]


class MeUpdate(Strict):
    name: str | None = Field(None, max_length=200)


class OrganizationCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)


class OrganizationUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _name_not_null(self):
        # Omit "name" to keep it; an organization cannot be renamed to nothing.
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        return self


class OrganizationSettings(BaseModel):
    """Rules an organization sets for itself; ``null`` is no rule.

    - ``data_retention_days``: dataset versions and metric data older than this are
      deleted (hourly; shorter than the server's metric retention only);
    - ``max_users``: members plus pending invitations may not exceed it;
    - ``allowed_models``: the only LLM models its AI providers may use."""

    data_retention_days: int | None = None
    max_users: int | None = None
    allowed_models: list[str] | None = None


class OrganizationSettingsUpdate(Strict):
    """The settings to change (``null`` removes the rule); the others stay."""

    data_retention_days: int | None = Field(None, ge=1, le=36_500)
    max_users: int | None = Field(None, ge=1, le=1_000_000)
    allowed_models: list[str] | None = Field(None, max_length=100)

    @field_validator("allowed_models")
    @classmethod
    def _models(cls, models: list[str] | None) -> list[str] | None:
        if models is None:
            return None
        names = [m.strip() for m in models]
        if any(not m or len(m) > 200 for m in names):
            raise ValueError("model names are 1 to 200 characters")
        return list(dict.fromkeys(names))


class OrganizationRead(Read):
    id: int
    name: str
    description: str | None
    created_at: datetime
    role: Role | None = None


class MemberRead(BaseModel):
    id: int
    user_id: int
    email: str
    name: str | None
    role: Role
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


class MemberUpdate(Strict):
    role: Role | None = None
    disabled: bool | None = None


class InvitationCreate(Strict):
    email: EmailStr
    role: Role = Role.member


class InvitationRead(Read):
    id: int
    email: str
    role: Role
    invited_by_id: int | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class InvitationCreated(InvitationRead):
    invitation_link: str = Field(description="Shown once; also mailed to the person invited.")


class InvitationAccept(Strict):
    token: str = Field(min_length=1, max_length=512)
    password: str = Password
    name: str | None = Field(None, max_length=200)


class ApiKeyCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(min_length=1, max_length=4)
    expires_at: UtcDatetime | None = None


class ApiKeyRead(Read):
    id: int
    name: str
    prefix: str
    scopes: list[Scope]
    created_by_id: int | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret, shown only in this response.")

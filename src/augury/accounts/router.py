"""HTTP routes of the accounts domain: auth, me, organizations, members, invitations, keys."""

from __future__ import annotations

from typing import Annotated, NoReturn

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy.orm import Session

from augury.accounts import (
    auth,
    keys,
    members,
    org_settings,
    organizations,
    passwords,
    preferences,
    schemas,
    users,
)
from augury.accounts.deps import CurrentUser, OrganizationDep
from augury.accounts.models import Membership, Role
from augury.api.deps import Admin, ObjectId, Reader, SessionDep, SettingsDep, UserOnly, client_ip
from augury.api.pagination import Page, PageDep, make_page
from augury.errors import AuguryError

auth_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(tags=["accounts"])


def _tokens(pair: auth.TokenPair) -> schemas.TokenOut:
    return schemas.TokenOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        user=schemas.UserRead.model_validate(pair.user),
        organization=schemas.OrganizationRef.model_validate(pair.organization),
        role=pair.role,
    )


def _commit_then_raise(session: Session, exc: AuguryError) -> NoReturn:
    # Failed attempts are evidence: keep their audit rows although the request fails.
    session.commit()
    raise exc


# --- auth ----------------------------------------------------------------------------


@auth_router.post("/signup", status_code=status.HTTP_201_CREATED, response_model=schemas.TokenOut)
def signup(body: schemas.SignupIn, request: Request, session: SessionDep, settings: SettingsDep):
    """Create an account and its organization (you become its owner), and log in."""
    user, org = auth.signup(
        session=session,
        settings=settings,
        email=body.email,
        password=body.password,
        name=body.name,
        organization_name=body.organization_name,
        ip=client_ip(request),
    )
    pair = auth.login(
        session=session,
        settings=settings,
        email=user.email,
        password=body.password,
        organization_id=org.id,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    return _tokens(pair)


@auth_router.post("/login", response_model=schemas.TokenOut)
def login(body: schemas.LoginIn, request: Request, session: SessionDep, settings: SettingsDep):
    """Log in with email and password; returns an access and a refresh token."""
    try:
        pair = auth.login(
            session=session,
            settings=settings,
            email=body.email,
            password=body.password,
            organization_id=body.organization_id,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
        )
    except AuguryError as exc:
        _commit_then_raise(session, exc)
    return _tokens(pair)


@auth_router.post("/refresh", response_model=schemas.TokenOut)
def refresh(body: schemas.RefreshIn, request: Request, session: SessionDep, settings: SettingsDep):
    """Exchange a refresh token for new tokens (the old refresh token stops working;
    presenting it again ends the whole login)."""
    try:
        pair = auth.refresh(
            session=session,
            settings=settings,
            refresh_token=body.refresh_token,
            ip=client_ip(request),
        )
    except AuguryError as exc:
        _commit_then_raise(session, exc)
    return _tokens(pair)


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: UserOnly, session: SessionDep):
    """End this login: its access and refresh tokens stop working."""
    auth.logout(session=session, principal=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post("/switch", response_model=schemas.TokenOut)
def switch(body: schemas.SwitchIn, principal: UserOnly, session: SessionDep, settings: SettingsDep):
    """Act in another organization you belong to; returns tokens for it."""
    return _tokens(
        auth.switch_organization(
            session=session, settings=settings, principal=principal, org_id=body.organization_id
        )
    )


@auth_router.post("/password/change", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    body: schemas.PasswordChangeIn, principal: UserOnly, session: SessionDep, settings: SettingsDep
):
    """Change your password; your other logins end."""
    try:
        passwords.change_password(
            session=session,
            settings=settings,
            principal=principal,
            current=body.current_password,
            new=body.new_password,
        )
    except AuguryError as exc:
        _commit_then_raise(session, exc)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post("/password/forgot", status_code=status.HTTP_202_ACCEPTED)
def forgot_password(
    body: schemas.PasswordForgotIn, request: Request, session: SessionDep, settings: SettingsDep
) -> dict:
    """Mail a password-reset link (the answer is the same whether the account exists or not)."""
    passwords.request_password_reset(
        session=session, settings=settings, email=body.email, ip=client_ip(request)
    )
    return {"status": "accepted", "message": "If this account exists, a reset mail is on its way."}


@auth_router.post("/password/reset", status_code=status.HTTP_204_NO_CONTENT)
def reset_password(body: schemas.PasswordResetIn, session: SessionDep, settings: SettingsDep):
    """Choose a new password with the token from the reset mail; all logins end."""
    passwords.reset_password(
        session=session, settings=settings, token=body.token, new=body.new_password
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- me and organizations -----------------------------------------------------------


@router.get("/users/me", response_model=schemas.MeOut, tags=["users"])
def me(principal: UserOnly, user: CurrentUser, session: SessionDep):
    """Your profile, the organization you act in, and all your organizations."""
    orgs = organizations.list_organizations(session=session, user_id=user.id)
    current = next(org for org, _ in orgs if org.id == principal.org_id)
    return schemas.MeOut(
        **schemas.UserRead.model_validate(user).model_dump(),
        organization=schemas.OrganizationRef.model_validate(current),
        role=principal.role,
        organizations=[schemas.MembershipRef(id=o.id, name=o.name, role=r) for o, r in orgs],
        preferences=preferences.of(user),
    )


@router.patch("/users/me", response_model=schemas.UserRead, tags=["users"])
def update_me(body: schemas.MeUpdate, principal: UserOnly, session: SessionDep):
    """Change your display name."""
    return users.update_profile(session=session, principal=principal, changes=body)


@router.get("/users/me/preferences", response_model=schemas.Preferences, tags=["users"])
def get_preferences(principal: UserOnly, user: CurrentUser):
    """Your preferences: theme (`light`, `dark`, `system`), language, time zone."""
    return preferences.of(user)


@router.patch("/users/me/preferences", response_model=schemas.Preferences, tags=["users"])
def update_preferences(body: schemas.PreferencesUpdate, principal: UserOnly, session: SessionDep):
    """Change your preferences; the fields left out stay. `timezone` is an IANA name
    (`Europe/Paris`), `language` one of the UI's languages (`en`)."""
    return preferences.update(session=session, principal=principal, changes=body)


@router.get("/organizations", response_model=Page[schemas.OrganizationRead], tags=["organizations"])
def list_organizations(user: CurrentUser, page: PageDep, session: SessionDep):
    """Organizations you belong to."""
    rows = organizations.list_organizations(session=session, user_id=user.id)
    items = [
        schemas.OrganizationRead.model_validate(org).model_copy(update={"role": Role(role)})
        for org, role in rows
    ]
    return make_page(items[page.offset : page.offset + page.limit], len(items), page)


@router.post(
    "/organizations",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.OrganizationRead,
    tags=["organizations"],
)
def create_organization(body: schemas.OrganizationCreate, user: CurrentUser, session: SessionDep):
    """Create another organization; you become its owner (switch to it to act in it)."""
    org = organizations.create_organization(
        session=session, owner=user, name=body.name, description=body.description
    )
    return schemas.OrganizationRead.model_validate(org).model_copy(update={"role": Role.owner})


@router.get(
    "/organizations/{organization_id}",
    response_model=schemas.OrganizationRead,
    tags=["organizations"],
)
def get_organization(principal: Reader, org: OrganizationDep):
    """The organization you act in (other organizations are not visible here)."""
    return schemas.OrganizationRead.model_validate(org).model_copy(update={"role": principal.role})


@router.patch(
    "/organizations/{organization_id}",
    response_model=schemas.OrganizationRead,
    tags=["organizations"],
)
def update_organization(
    organization_id: ObjectId,
    body: schemas.OrganizationUpdate,
    principal: Admin,
    session: SessionDep,
):
    """Rename or describe the organization you act in (admins)."""
    org = organizations.update_organization(
        session=session,
        principal=principal,
        org_id=organization_id,
        changes=body,
    )
    return schemas.OrganizationRead.model_validate(org).model_copy(update={"role": principal.role})


@router.get(
    "/organizations/{organization_id}/settings",
    response_model=schemas.OrganizationSettings,
    tags=["organizations"],
)
def get_organization_settings(organization_id: ObjectId, principal: Reader, session: SessionDep):
    """The organization's rules: data retention, maximum users, allowed AI models."""
    return org_settings.get(session=session, principal=principal, org_id=organization_id)


@router.patch(
    "/organizations/{organization_id}/settings",
    response_model=schemas.OrganizationSettings,
    tags=["organizations"],
)
def update_organization_settings(
    organization_id: ObjectId,
    body: schemas.OrganizationSettingsUpdate,
    principal: Admin,
    session: SessionDep,
):
    """Change the organization's rules (admins); `null` removes one. `max_users` is
    checked on every invitation and acceptance, `data_retention_days` deletes older
    dataset versions and metric data hourly, `allowed_models` limits the models of the
    organization's AI providers."""
    return org_settings.update(
        session=session, principal=principal, org_id=organization_id, changes=body
    )


# --- members -------------------------------------------------------------------------


def _member(m: Membership) -> schemas.MemberRead:
    return schemas.MemberRead(
        id=m.id,
        user_id=m.user_id,
        email=m.user.email,
        name=m.user.name,
        role=m.role,
        disabled=m.disabled_at is not None,
        created_at=m.created_at,
        last_login_at=m.user.last_login_at,
    )


@router.get("/members", response_model=Page[schemas.MemberRead], tags=["members"])
def list_members(principal: Reader, session: SessionDep, page: PageDep):
    """Members of the organization, with their roles."""
    rows, total = members.list_members(session=session, org_id=principal.org_id, page=page)
    return make_page([_member(m) for m in rows], total, page)


@router.patch("/members/{member_id}", response_model=schemas.MemberRead, tags=["members"])
def update_member(
    member_id: ObjectId, body: schemas.MemberUpdate, principal: Admin, session: SessionDep
):
    """Change a member's role, or disable/enable them (admins; owners for owners)."""
    member = members.update_member(
        session=session,
        principal=principal,
        member_id=member_id,
        changes=body,
    )
    return _member(member)


# --- invitations ---------------------------------------------------------------------


@router.get("/invitations", response_model=Page[schemas.InvitationRead], tags=["invitations"])
def list_invitations(
    principal: Admin,
    session: SessionDep,
    page: PageDep,
    pending: Annotated[bool, Query(description="Only pending invitations.")] = True,
):
    """Invitations of the organization (admins)."""
    rows, total = members.list_invitations(
        session=session, org_id=principal.org_id, page=page, pending_only=pending
    )
    return make_page(rows, total, page)


@router.post(
    "/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.InvitationCreated,
    tags=["invitations"],
)
def create_invitation(
    body: schemas.InvitationCreate, principal: Admin, session: SessionDep, settings: SettingsDep
):
    """Invite someone by email with a role; the link is mailed and shown once here."""
    invitation, token = members.invite(
        session=session, settings=settings, principal=principal, body=body
    )
    link = members.invitation_link(settings, token)
    return schemas.InvitationCreated(
        **schemas.InvitationRead.model_validate(invitation).model_dump(), invitation_link=link
    )


@router.delete(
    "/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["invitations"]
)
def revoke_invitation(invitation_id: ObjectId, principal: Admin, session: SessionDep):
    """Withdraw a pending invitation."""
    members.revoke_invitation(session=session, principal=principal, invitation_id=invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/invitations/accept", response_model=schemas.TokenOut, tags=["invitations"])
def accept_invitation(
    body: schemas.InvitationAccept, request: Request, session: SessionDep, settings: SettingsDep
):
    """Accept an invitation: new people choose a password, existing users give theirs."""
    pair = members.accept_invitation(
        session=session,
        settings=settings,
        token=body.token,
        password=body.password,
        name=body.name,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    return _tokens(pair)


# --- API keys ------------------------------------------------------------------------


@router.get("/api-keys", response_model=Page[schemas.ApiKeyRead], tags=["api-keys"])
def list_api_keys(
    principal: UserOnly,
    session: SessionDep,
    page: PageDep,
    include_revoked: Annotated[bool, Query(description="Also list revoked keys.")] = False,
):
    """API keys with their last use (admins see every key, others their own)."""
    rows, total = keys.list_api_keys(
        session=session, principal=principal, page=page, include_revoked=include_revoked
    )
    return make_page(rows, total, page)


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.ApiKeyCreated,
    tags=["api-keys"],
)
def create_api_key(body: schemas.ApiKeyCreate, principal: UserOnly, session: SessionDep):
    """Create an API key with scopes (ingest, read, write, admin); the secret is shown once."""
    key, secret = keys.create_api_key(
        session=session,
        principal=principal,
        name=body.name,
        scopes=[s.value for s in body.scopes],
        expires_at=body.expires_at,
    )
    return schemas.ApiKeyCreated(**schemas.ApiKeyRead.model_validate(key).model_dump(), key=secret)


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["api-keys"])
def revoke_api_key(key_id: ObjectId, principal: UserOnly, session: SessionDep):
    """Revoke an API key: it stops working at once."""
    keys.revoke_api_key(session=session, principal=principal, key_id=key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

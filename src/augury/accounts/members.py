"""Members of an organization and invitations to join one.

Roles rank viewer < member < admin < owner: admins manage members and invitations,
only owners grant, change or disable an owner, and an organization always keeps one
active owner. Functions never commit (the caller's unit of work does).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts import org_settings, security
from augury.accounts.auth import TokenPair, end_logins, issue_tokens
from augury.accounts.models import Invitation, Membership, Role
from augury.accounts.organizations import get_organization
from augury.accounts.principal import Principal
from augury.accounts.schemas import InvitationCreate, MemberUpdate
from augury.accounts.users import create_user, get_user_by_email, normalize_email, user_created
from augury.audit import service as audit
from augury.config import Settings
from augury.errors import AuthenticationFailed, Conflict, NotFound, PermissionDenied
from augury.events import service as events
from augury.mail import send_mail
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate

# --- members -------------------------------------------------------------------------


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
    count = session.scalar(
        select(func.count()).where(
            Membership.org_id == org_id,
            Membership.role == Role.owner,
            Membership.disabled_at.is_(None),
        )
    )
    return int(count or 0)


def update_member(
    *, session: Session, principal: Principal, member_id: int, changes: MemberUpdate
) -> Membership:
    """Change a member's role or disable/enable them, keeping at least one active owner."""
    principal.require("admin")
    role, disabled = changes.role, changes.disabled
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
    recorded: dict = {}
    if role is not None and role != member.role:
        recorded["role"] = [member.role, role.value]
        member.role = role
    if disabled is not None and disabled != (member.disabled_at is not None):
        member.disabled_at = clock.now() if disabled else None
        recorded["disabled"] = disabled
        if disabled:
            end_logins(session, member.user_id, org_id=member.org_id)
    if recorded:
        action = "member.role_change" if "role" in recorded else "member.update"
        audit.record_by(
            session=session,
            principal=principal,
            action=action,
            target_type="member",
            target_id=member.id,
            details={"user_email": member.user.email, **recorded},
        )
    return member


# --- invitations ---------------------------------------------------------------------


def invitation_link(settings: Settings, token: str) -> str:
    """Where the person invited accepts (the web UI's page for the token)."""
    return f"{settings.base_url.rstrip('/')}/accept-invitation?token={token}"


def invite(
    *, session: Session, settings: Settings, principal: Principal, body: InvitationCreate
) -> tuple[Invitation, str]:
    """Invite someone by email with a role; returns the invitation and its secret token."""
    principal.require("admin")
    role = body.role
    if role == Role.owner and not principal.can("owner"):
        raise PermissionDenied("Only an owner can invite an owner.")
    email = normalize_email(body.email)
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
    org_settings.check_seats(session, principal.org_id)
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
    org = get_organization(session=session, org_id=principal.org_id)
    link = invitation_link(settings, token)
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
    audit.record_by(
        session=session,
        principal=principal,
        action="invitation.create",
        target_type="invitation",
        target_id=invitation.id,
        details={"email": email, "role": role.value},
    )
    events.emit(
        session,
        org_id=principal.org_id,
        type="member.invited",
        data={
            "invitation_id": invitation.id,
            "email": email,
            "role": role.value,
            "expires_at": invitation.expires_at.isoformat(),
            "user_id": principal.user_id,
        },
        user_id=principal.user_id,
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
    audit.record_by(
        session=session,
        principal=principal,
        action="invitation.revoke",
        target_type="invitation",
        target_id=invitation.id,
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
        user_created(
            session, invitation.org_id, user, role=Role(invitation.role).value, via="invitation"
        )
    elif not security.verify_password(password, user.password_hash):
        raise AuthenticationFailed("This email already has an account: give its password.")
    membership = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.org_id == invitation.org_id
        )
    )
    if membership is None or membership.disabled_at is not None:
        org_settings.check_seats(session, invitation.org_id, accepting=True)
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
    return issue_tokens(session, settings, user, membership, ip=ip, user_agent=user_agent)

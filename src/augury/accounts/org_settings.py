"""An organization's own rules (``organization.settings``): how long its data is kept,
how many people it may have, which LLM models its AI providers may use.

Each rule is enforced where it applies: ``max_users`` by :func:`check_seats` (inviting
and accepting an invitation), ``data_retention_days`` by the datasets' and metrics'
retention tasks (:func:`retention_days`), ``allowed_models`` by the AI providers
(:func:`allowed_models`).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.models import Invitation, Membership, Organization
from augury.accounts.principal import Principal
from augury.accounts.schemas import OrganizationSettings, OrganizationSettingsUpdate
from augury.audit import service as audit
from augury.errors import Conflict, NotFound


def of(org: Organization) -> OrganizationSettings:
    stored = org.settings or {}
    return OrganizationSettings.model_validate(
        {k: v for k, v in stored.items() if k in OrganizationSettings.model_fields}
    )


def get(*, session: Session, principal: Principal, org_id: int) -> OrganizationSettings:
    """The settings of the organization ``principal`` acts in (any other id: NotFound)."""
    return of(_current(session, principal, org_id))


def update(
    *,
    session: Session,
    principal: Principal,
    org_id: int,
    changes: OrganizationSettingsUpdate,
) -> OrganizationSettings:
    """Change the current organization's settings (admins); ``null`` removes a rule."""
    org = _current(session, principal, org_id)
    principal.require("admin")
    before = of(org)
    fields = changes.model_dump(exclude_unset=True)
    org.settings = {**(org.settings or {}), **fields}
    after = of(org)
    audit.record_change(
        session=session,
        principal=principal,
        action="org.settings.update",
        target_type="organization",
        target_id=org_id,
        before=before.model_dump(include=set(fields)),
        after=after.model_dump(include=set(fields)),
    )
    return after


def _current(session: Session, principal: Principal, org_id: int) -> Organization:
    org = session.get(Organization, org_id) if org_id == principal.org_id else None
    if org is None:
        raise NotFound("Organization not found.")
    return org


def seats_taken(session: Session, org_id: int) -> tuple[int, int]:
    """Active members and pending (not accepted, revoked or expired) invitations."""
    members = session.scalar(
        select(func.count()).where(Membership.org_id == org_id, Membership.disabled_at.is_(None))
    )
    pending = session.scalar(
        select(func.count()).where(
            Invitation.org_id == org_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > clock.now(),
        )
    )
    return int(members or 0), int(pending or 0)


def check_seats(session: Session, org_id: int, *, accepting: bool = False) -> None:
    """Refuse one more person (409) when ``max_users`` is reached: inviting counts the
    members and the pending invitations; accepting counts the members only (the
    invitation being accepted held its seat)."""
    org = session.get(Organization, org_id)
    limit = of(org).max_users if org is not None else None
    if limit is None:
        return
    members, pending = seats_taken(session, org_id)
    taken = members if accepting else members + pending
    if taken + 1 > limit:
        raise Conflict(
            f"This organization may have {limit} users at most "
            f"({members} members and {pending} pending invitations): "
            "raise max_users in the organization's settings or remove someone first.",
            details={
                "reason": "MAX_USERS",
                "max_users": limit,
                "members": members,
                "pending_invitations": pending,
            },
        )


def retention_days(session: Session) -> dict[int, int]:
    """Organization id -> its ``data_retention_days``, for those that set one."""
    found = {}
    for org_id, stored in session.execute(select(Organization.id, Organization.settings)):
        days = (stored or {}).get("data_retention_days")
        if isinstance(days, int) and days > 0:
            found[org_id] = days
    return found


def allowed_models(session: Session, org_id: int) -> list[str] | None:
    """The models the organization's AI providers may use; None: any."""
    org = session.get(Organization, org_id)
    return of(org).allowed_models if org is not None else None

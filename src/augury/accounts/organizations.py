"""Organizations: creating one (its creator owns it), reading and editing it.

A principal sees only the organization it acts in: any other id is NotFound, as for
every org-owned resource. Functions never commit (the caller's unit of work does).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.accounts.models import Membership, Organization, Role, User
from augury.accounts.principal import Principal
from augury.accounts.schemas import OrganizationUpdate
from augury.audit import service as audit
from augury.errors import NotFound


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


def get_current_organization(
    *, session: Session, principal: Principal, org_id: int
) -> Organization:
    """Organization ``org_id`` if it is the one ``principal`` acts in, else NotFound."""
    if org_id != principal.org_id:
        raise NotFound("Organization not found.")
    return get_organization(session=session, org_id=org_id)


def update_organization(
    *, session: Session, principal: Principal, org_id: int, changes: OrganizationUpdate
) -> Organization:
    """Rename or describe the current organization (admins)."""
    if org_id != principal.org_id:
        raise NotFound("Organization not found.")
    principal.require("admin")
    org = get_organization(session=session, org_id=org_id)
    fields = changes.model_dump(exclude_unset=True)
    for field, value in fields.items():
        setattr(org, field, value)
    audit.record_by(
        session=session,
        principal=principal,
        action="org.update",
        target_type="organization",
        target_id=org_id,
        details={"fields": sorted(fields)},
    )
    return org

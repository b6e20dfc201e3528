"""``audit.record_by`` takes the organization and the actor from the principal."""

from __future__ import annotations

from sqlalchemy import select

from augury.accounts.models import Role
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.audit.models import AuditEvent


def test_record_by_writes_the_principals_org_actor_and_details(db, owner):
    principal = Principal(
        org_id=owner.org_id,
        user_id=owner.user_id,
        role=Role.owner,
        email=owner.email,
        ip="203.0.113.7",
    )
    with db.session() as session:
        audit.record_by(
            session=session,
            principal=principal,
            action="job.delete",
            target_type="job",
            target_id=42,
            details={"type": "demo.work"},
        )
        audit.record_by(
            session=session, principal=principal, action="user.password_change", outcome="failure"
        )
    with db.session() as session:
        deleted, failed = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(["job.delete", "user.password_change"]))
            .order_by(AuditEvent.id)
        ).all()
    assert (deleted.org_id, deleted.actor_user_id, deleted.actor_key_id) == (
        owner.org_id,
        owner.user_id,
        None,
    )
    assert (deleted.actor_email, deleted.ip) == (owner.email, "203.0.113.7")
    assert (deleted.target_type, deleted.target_id) == ("job", "42")
    assert deleted.details == {"type": "demo.work"}
    assert deleted.outcome == "success"
    assert (failed.org_id, failed.outcome, failed.details) == (owner.org_id, "failure", {})
    assert failed.target_type is None and failed.target_id is None

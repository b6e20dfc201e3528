"""How an organization's members appear in its global search (installed by
runtime.wiring): name and email, as the members page shows them to every role."""

from __future__ import annotations

from sqlalchemy import select

from augury.accounts.models import Membership, User
from augury.search.service import Entry, Searchable


def _member(member: Membership, conn) -> Entry:
    name, email = conn.execute(select(User.name, User.email).where(User.id == member.user_id)).one()
    state = "disabled" if member.disabled_at is not None else member.role
    return Entry(
        title=name or email,
        body=f"{email} {state}",
        link=f"/settings/members?member={member.id}",
    )


SEARCHABLE = [Searchable(Membership, "member", ("role", "disabled_at"), _member)]

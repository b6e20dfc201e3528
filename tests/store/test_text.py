"""``store.text.contains``: the search boxes' "name holds this text", on both databases."""

from __future__ import annotations

from sqlalchemy import select

from augury.accounts.models import Organization
from augury.store.text import contains


def test_contains_ignores_case_and_takes_wildcards_literally(db):
    with db.session() as s:
        for name in ("Acme Corp", "50% off_sale", "5000 offers", "back\\slash"):
            s.add(Organization(name=name, description=None))
        s.flush()

        def found(text: str) -> list[str]:
            stmt = select(Organization.name).where(contains(Organization.name, text))
            return sorted(s.scalars(stmt))

        assert found("acme") == ["Acme Corp"]
        assert found("CORP") == ["Acme Corp"]
        assert found("50%") == ["50% off_sale"]  # not "5000 offers"
        assert found("f_s") == ["50% off_sale"]
        assert found("%") == ["50% off_sale"]
        assert found("\\s") == ["back\\slash"]
        assert found("nothing") == []

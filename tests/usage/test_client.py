"""The Python client's usage group, preferences and organization settings."""

from __future__ import annotations

import pytest

from augury.client import ConflictError, ValidationError
from tests.test_client import owner, signed_up  # noqa: F401 (fixture)


def test_usage_preferences_and_settings_through_the_client(live_server, owner):  # noqa: F811
    me = owner.me()
    platform = owner.usage.platform()
    assert platform["organization_id"] == me["organization"]["id"]
    assert platform["users"]["total"] == 1 and len(platform["daily"]) == 31
    mine = owner.usage.user(me["id"])
    assert mine["user_id"] == me["id"] and "api_calls" in mine["usage"]

    assert owner.update_preferences(theme="dark", timezone="Europe/Paris") == {
        "theme": "dark",
        "language": "en",
        "timezone": "Europe/Paris",
    }
    assert owner.preferences()["theme"] == "dark"
    with pytest.raises(ValidationError):
        owner.update_preferences(timezone="Nowhere/Special")

    org_id = me["organization"]["id"]
    rules = owner.orgs.update_settings(org_id, max_users=1, allowed_models=["gpt-4o"])
    assert rules == {"data_retention_days": None, "max_users": 1, "allowed_models": ["gpt-4o"]}
    with pytest.raises(ConflictError):
        owner.invitations.create("one.too.many@example.com")
    assert owner.orgs.update_settings(org_id, max_users=None)["max_users"] is None
    assert owner.orgs.settings(org_id)["allowed_models"] == ["gpt-4o"]

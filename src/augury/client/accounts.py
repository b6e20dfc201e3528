"""Organizations, their members, invitations and API keys."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from augury.client.base import JSON, Resource, _body


class Organizations(Resource):
    """Organizations you belong to (``client.orgs``)."""

    def list(self, *, offset: int = 0, limit: int = 50) -> JSON:
        """One page of the organizations you belong to, with your role in each."""
        return self._page("/organizations", offset, limit)

    def iter(self, *, page_size: int = 100) -> Iterator[JSON]:
        """Every organization you belong to."""
        return self._iter("/organizations", page_size)

    def create(self, name: str, description: str | None = None) -> JSON:
        """Create an organization you own (switch to it to act in it)."""
        return self._client.request(
            "POST", "/organizations", json={"name": name, "description": description}
        )

    def get(self, organization_id: int) -> JSON:
        """The organization you act in."""
        return self._client.request("GET", f"/organizations/{organization_id}")

    def update(
        self, organization_id: int, *, name: str | None = None, description: str | None = None
    ) -> JSON:
        """Rename or describe the organization you act in (admins); None leaves a field as is."""
        body = _body(name=name, description=description)
        return self._client.request("PATCH", f"/organizations/{organization_id}", json=body)

    def settings(self, organization_id: int) -> JSON:
        """The organization's rules: data retention days, max users, allowed AI models."""
        return self._client.request("GET", f"/organizations/{organization_id}/settings")

    def update_settings(self, organization_id: int, **changes: Any) -> JSON:
        """Change rules (admins): ``data_retention_days``, ``max_users``,
        ``allowed_models``; a rule given as None is removed, one not given stays."""
        path = f"/organizations/{organization_id}/settings"
        return self._client.request("PATCH", path, json=changes)


class Members(Resource):
    """Members of the organization you act in (``client.members``)."""

    def list(self, *, offset: int = 0, limit: int = 50) -> JSON:
        """One page of members with their roles."""
        return self._page("/members", offset, limit)

    def iter(self, *, page_size: int = 100) -> Iterator[JSON]:
        """Every member."""
        return self._iter("/members", page_size)

    def update(
        self, member_id: int, *, role: str | None = None, disabled: bool | None = None
    ) -> JSON:
        """Change a member's role or disable/enable them (admins); None leaves a field as is."""
        body = _body(role=role, disabled=disabled)
        return self._client.request("PATCH", f"/members/{member_id}", json=body)


class Invitations(Resource):
    """Invitations into the organization you act in (``client.invitations``)."""

    def list(self, *, pending: bool = True, offset: int = 0, limit: int = 50) -> JSON:
        """One page of invitations (admins); only pending ones unless ``pending=False``."""
        return self._page("/invitations", offset, limit, pending=pending)

    def iter(self, *, pending: bool = True, page_size: int = 100) -> Iterator[JSON]:
        """Every invitation (admins)."""
        return self._iter("/invitations", page_size, pending=pending)

    def create(self, email: str, role: str = "member") -> JSON:
        """Invite someone by email; the answer holds the ``invitation_link`` (shown once)."""
        return self._client.request("POST", "/invitations", json={"email": email, "role": role})

    def revoke(self, invitation_id: int) -> None:
        """Withdraw a pending invitation."""
        self._client.request("DELETE", f"/invitations/{invitation_id}")

    def accept(self, token: str, password: str, name: str | None = None) -> JSON:
        """Accept an invitation and log in as the person invited (the client keeps the tokens)."""
        body = _body(token=token, password=password, name=name)
        return self._client._keep_tokens(
            self._client.request("POST", "/invitations/accept", json=body, authenticate=False)
        )


class ApiKeys(Resource):
    """API keys (``client.keys``)."""

    def list(self, *, include_revoked: bool = False, offset: int = 0, limit: int = 50) -> JSON:
        """One page of keys with their last use (admins see every key, others their own)."""
        return self._page("/api-keys", offset, limit, include_revoked=include_revoked)

    def iter(self, *, include_revoked: bool = False, page_size: int = 100) -> Iterator[JSON]:
        """Every key."""
        return self._iter("/api-keys", page_size, include_revoked=include_revoked)

    def create(
        self, name: str, scopes: Iterable[str] = ("read",), expires_at: datetime | None = None
    ) -> JSON:
        """Create a key with scopes (ingest, read, write, admin); ``["key"]`` is its secret."""
        body: dict[str, Any] = {"name": name, "scopes": list(scopes)}
        if expires_at is not None:
            body["expires_at"] = expires_at.isoformat()
        return self._client.request("POST", "/api-keys", json=body)

    def revoke(self, key_id: int) -> None:
        """Revoke a key: it stops working at once."""
        self._client.request("DELETE", f"/api-keys/{key_id}")

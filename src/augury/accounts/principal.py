"""Who is acting: a person (JWT) or a machine (API key), in one organization."""

from __future__ import annotations

from dataclasses import dataclass, field

from augury.accounts.models import Role, Scope
from augury.errors import PermissionDenied

# What each permission needs: the least role for people, the scopes that grant it for keys.
_NEEDS = {
    "read": (Role.viewer, {Scope.read, Scope.write, Scope.admin}),
    "ingest": (Role.member, {Scope.ingest, Scope.write, Scope.admin}),
    "write": (Role.member, {Scope.write, Scope.admin}),
    "admin": (Role.admin, {Scope.admin}),
    "owner": (Role.owner, set()),
}
PERMISSIONS = tuple(_NEEDS)


@dataclass(frozen=True)
class Principal:
    """``user_id`` is the person acting, or for an API key the person who created it."""

    org_id: int
    user_id: int | None = None
    role: Role | None = None
    key_id: int | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    session_id: int | None = None
    email: str | None = None
    ip: str | None = None

    @property
    def is_user(self) -> bool:
        return self.user_id is not None and self.key_id is None

    def can(self, permission: str) -> bool:
        least_role, scopes = _NEEDS[permission]
        if self.key_id is not None:
            return bool(self.scopes & scopes)
        return self.role is not None and self.role.rank >= least_role.rank

    def require(self, permission: str) -> Principal:
        if not self.can(permission):
            who = "API key" if self.key_id is not None else f"role {self.role}"
            raise PermissionDenied(
                f"This action needs the '{permission}' permission, which your {who} lacks.",
                details={"required": permission},
            )
        return self

    def require_user(self) -> Principal:
        if not self.is_user:
            raise PermissionDenied("This action is for people signed in, not API keys.")
        return self

    def audit_actor(self) -> dict:
        return {
            "actor_user_id": self.user_id,
            "actor_key_id": self.key_id,
            "actor_email": self.email,
            "ip": self.ip,
        }


def max_scopes_for(role: Role) -> set[str]:
    """Scopes a person with ``role`` may put on a key (never more power than they have)."""
    if role.rank >= Role.admin.rank:
        return {s.value for s in Scope}
    if role is Role.member:
        return {Scope.ingest, Scope.read, Scope.write}
    return {Scope.read}

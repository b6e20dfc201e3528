"""Loaders the accounts routes share: the person acting and the organization in a path.

Each resolves the principal through the same aliases the routes declare, which FastAPI
builds once per request, so a route that also needs a stricter role keeps declaring it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from augury.accounts import organizations, users
from augury.accounts.models import Organization, User
from augury.api.deps import ObjectId, Reader, SessionDep, UserOnly


def _current_user(principal: UserOnly, session: SessionDep) -> User:
    return users.current_user(session=session, principal=principal)


def _organization(
    organization_id: ObjectId, principal: Reader, session: SessionDep
) -> Organization:
    return organizations.get_current_organization(
        session=session, principal=principal, org_id=organization_id
    )


CurrentUser = Annotated[User, Depends(_current_user)]
"""The person signed in (API keys are refused: they act for nobody in particular)."""
OrganizationDep = Annotated[Organization, Depends(_organization)]
"""The organization ``{organization_id}``: only the one the principal acts in exists."""

"""A person's preferences: the UI's theme, language and the time zone of every time it
shows. Stored in ``user.preferences`` (JSON); what is not set reads as its default."""

from __future__ import annotations

from sqlalchemy.orm import Session

from augury.accounts.models import User
from augury.accounts.principal import Principal
from augury.accounts.schemas import Preferences, PreferencesUpdate
from augury.accounts.users import current_user


def of(user: User) -> Preferences:
    """``user``'s preferences, defaults filled in (a stored value no longer valid, such
    as a time zone the server's database dropped, reads as the default)."""
    stored = user.preferences or {}
    defaults = Preferences()
    valid = {}
    for field in Preferences.model_fields:
        if field in stored:
            try:
                Preferences.model_validate({field: stored[field]})
            except ValueError:
                continue
            valid[field] = stored[field]
    return defaults.model_copy(update=valid)


def update(*, session: Session, principal: Principal, changes: PreferencesUpdate) -> Preferences:
    """Change the acting person's preferences (the fields ``changes`` sets; ``None``
    puts one back to its default)."""
    user = current_user(session=session, principal=principal)
    given = changes.model_dump(exclude_unset=True)
    kept = {k: v for k, v in (user.preferences or {}).items() if k not in given}
    # A new dict: the JSON column notices a replaced value, not one changed in place.
    user.preferences = kept | {k: v for k, v in given.items() if v is not None}
    return of(user)

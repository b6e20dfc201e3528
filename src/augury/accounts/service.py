"""The accounts service's former single module, kept so that callers written before
its split (the CLI, the demo, the benchmarks) go on importing from one place.

New code imports the module of the concern: :mod:`augury.accounts.users`,
:mod:`~augury.accounts.auth`, :mod:`~augury.accounts.passwords`,
:mod:`~augury.accounts.organizations`, :mod:`~augury.accounts.members` and
:mod:`~augury.accounts.keys`.
"""

from __future__ import annotations

from augury.accounts.auth import TokenPair, login, signup
from augury.accounts.keys import create_api_key, principal_from_api_key
from augury.accounts.organizations import create_organization, get_organization
from augury.accounts.users import create_user, get_user_by_email, normalize_email

__all__ = [
    "TokenPair",
    "create_api_key",
    "create_organization",
    "create_user",
    "get_organization",
    "get_user_by_email",
    "login",
    "normalize_email",
    "principal_from_api_key",
    "signup",
]

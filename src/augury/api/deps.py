"""Dependencies every router shares: the DB session, settings and the acting principal.

Credentials are read in this order: ``Authorization: Bearer`` (JWT or API key;
``Token`` as InfluxDB clients write it works too), ``X-Auth-Token`` (Anomify style, API
keys), and on ingestion routes only ``?token=`` (Anodot style) and HTTP basic auth with
the API key as password (Prometheus ``basic_auth``). All but Bearer take API keys only:
a person's access token there is refused rather than left in URLs, logs and proxies.
Routes declare what they need with the aliases at the bottom (``Reader``, ``Writer``,
``Admin``, ``Owner``, ``Ingester``, ``UserOnly``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPBearer
from sqlalchemy.orm import Session

from augury.accounts import auth, keys
from augury.accounts.principal import Principal
from augury.accounts.security import API_KEY_PREFIX
from augury.api import clientip
from augury.config import Settings
from augury.errors import AuthenticationFailed


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, else rolled back."""
    session = request.app.state.db.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
# Ids in paths: positive and within the database's integer range (else a clean 422).
MAX_ID = 2**31 - 1
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="Id of the object.")]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def client_ip(request: Request) -> str | None:
    """The client's address, X-Forwarded-For believed only from trusted proxies."""
    return clientip.client_ip(request.scope)


def _credential(request: Request, allow_query_token: bool) -> tuple[str, bool] | None:
    """The credential presented, and whether it may be a person's token (only Bearer)."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        scheme, value = scheme.lower(), value.strip()
        if scheme in ("bearer", "token") and value:  # "Token": InfluxDB clients, Telegraf
            return value, True
        if scheme == "basic" and value and allow_query_token:  # Prometheus basic_auth
            try:
                _user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                password = ""
            if password:
                return password, False
        raise AuthenticationFailed("Use 'Authorization: Bearer <token or API key>'.")
    token = request.headers.get("x-auth-token")
    if token:
        return token.strip(), False
    if allow_query_token and request.query_params.get("token"):
        return request.query_params["token"], False
    return None


def _authenticate(
    request: Request, session: Session, settings: Settings, ingest: bool
) -> Principal:
    presented = _credential(request, allow_query_token=ingest)
    if presented is None:
        raise AuthenticationFailed("Authentication required.")
    credential, person_allowed = presented
    ip = client_ip(request)
    if not person_allowed and not credential.startswith(API_KEY_PREFIX):
        raise AuthenticationFailed(
            "Only API keys are accepted in X-Auth-Token, ?token= and basic auth; "
            "send an access token as 'Authorization: Bearer <token>'."
        )
    if person_allowed and credential.count(".") == 2:
        principal = auth.principal_from_access_token(
            session=session, settings=settings, token=credential, ip=ip
        )
    else:
        principal = keys.principal_from_api_key(session=session, secret=credential, ip=ip)
    request.state.principal = principal
    return principal


# The credentials as the OpenAPI document declares them, so that "Authorize" and "Try it
# out" work in /api/v1/docs. They never fail a request: _credential reads the headers.
BEARER = HTTPBearer(
    scheme_name="bearer",
    description="An access token from POST /auth/login, or an API key (aug_...).",
    auto_error=False,
)
AUTH_TOKEN = APIKeyHeader(
    name="X-Auth-Token", scheme_name="apiKeyHeader", description="An API key.", auto_error=False
)
QUERY_TOKEN = APIKeyQuery(
    name="token",
    scheme_name="apiKeyQuery",
    description="An API key, on ingestion routes only (Anodot style).",
    auto_error=False,
)
Bearer = Annotated[object, Security(BEARER)]
AuthToken = Annotated[object, Security(AUTH_TOKEN)]


def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _bearer: Bearer = None,
    _header: AuthToken = None,
) -> Principal:
    return _authenticate(request, session, settings, ingest=False)


def get_ingest_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _bearer: Bearer = None,
    _header: AuthToken = None,
    _query: Annotated[object, Security(QUERY_TOKEN)] = None,
) -> Principal:
    return _authenticate(request, session, settings, ingest=True).require("ingest")


def requires(permission: str):
    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        return principal.require(permission)

    dependency.__name__ = f"requires_{permission}"
    return dependency


def _user_only(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    return principal.require_user()


Authenticated = Annotated[Principal, Depends(get_principal)]
Reader = Annotated[Principal, Depends(requires("read"))]
Writer = Annotated[Principal, Depends(requires("write"))]
Admin = Annotated[Principal, Depends(requires("admin"))]
Owner = Annotated[Principal, Depends(requires("owner"))]
Ingester = Annotated[Principal, Depends(get_ingest_principal)]
UserOnly = Annotated[Principal, Depends(_user_only)]

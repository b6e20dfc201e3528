"""The client: one connection to an augury server, its credentials and resource groups.

:meth:`Client.request` is the one place requests are sent: it adds the credential,
refreshes an expired access token once, and raises the API's errors as exceptions.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from augury import __version__
from augury.client.accounts import ApiKeys, Invitations, Members, Organizations
from augury.client.alerts import Alerts, Channels, Events
from augury.client.analytics import Analytics
from augury.client.anomalies import Anomalies
from augury.client.audit import Audit
from augury.client.base import JSON, _body, _query
from augury.client.chat import Chat
from augury.client.collectors import Collectors
from augury.client.dashboards import Dashboards
from augury.client.datasets import Datasets
from augury.client.errors import AuthenticationError, _error_from
from augury.client.forecasts import Forecasts
from augury.client.jobs import Jobs
from augury.client.metrics import Metrics
from augury.client.models import Applications, Models, Subscriptions
from augury.client.notifications import Notifications
from augury.client.patterns import Patterns
from augury.client.text import Text
from augury.client.usage import Usage
from augury.client.webhooks import Webhooks

_API_PREFIX = "/api/v1"


def _jwt_expired(token: str, leeway_s: float = 5.0) -> bool:
    """Whether a JWT's ``exp`` claim has passed (read, not verified: the server verifies)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"]) <= time.time() + leeway_s
    except (IndexError, ValueError, KeyError, TypeError):
        return False


class Client:
    """A connection to one augury server.

    Parameters
    ----------
    base_url : str
        The server, e.g. ``"http://127.0.0.1:8000"`` (``/api/v1`` is added).
    api_key : str, optional
        An API key (``aug_...``), sent as ``Authorization: Bearer``.
    token : str, optional
        An access token (JWT) from an earlier login.
    refresh_token : str, optional
        The refresh token that goes with ``token``, to renew it when it expires.
    timeout : float
        Seconds to wait for the server, per request.
    verify : bool
        Check the server's TLS certificate.

    After :meth:`login`, :meth:`signup` or ``invitations.accept`` the client keeps the
    access and refresh tokens (they take precedence over ``api_key``), and when the
    access token has expired it refreshes it once and repeats the request.
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        token: str | None = None,
        refresh_token: str | None = None,
        timeout: float = 30.0,
        verify: bool = True,
    ) -> None:
        base = base_url.rstrip("/")
        if not base.endswith(_API_PREFIX):
            base += _API_PREFIX
        self.api_key = api_key
        self.access_token = token
        self.refresh_token = refresh_token
        self._http = httpx.Client(
            base_url=base,
            timeout=timeout,
            verify=verify,
            headers={"User-Agent": f"augury-client/{__version__}", "Accept": "application/json"},
        )
        self.orgs = Organizations(self)
        self.members = Members(self)
        self.invitations = Invitations(self)
        self.keys = ApiKeys(self)
        self.jobs = Jobs(self)
        self.audit = Audit(self)
        self.metrics = Metrics(self)
        self.anomalies = Anomalies(self)
        self.forecasts = Forecasts(self)
        self.alerts = Alerts(self)
        self.channels = Channels(self)
        self.events = Events(self)
        self.datasets = Datasets(self)
        self.analytics = Analytics(self)
        self.text = Text(self)
        self.notifications = Notifications(self)
        self.applications = Applications(self)
        self.subscriptions = Subscriptions(self)
        self.models = Models(self)
        self.webhooks = Webhooks(self)
        self.dashboards = Dashboards(self)
        self.usage = Usage(self)
        self.chat = Chat(self)
        self.patterns = Patterns(self)
        self.collectors = Collectors(self)

    def __repr__(self) -> str:
        return f"<Client {self._http.base_url}>"

    # --- plumbing ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        authenticate: bool = True,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        """Send one request to ``/api/v1{path}``; the decoded JSON answer, or None for 204.

        ``content`` sends raw bytes instead of ``json``; ``raw=True`` returns the answer's
        bytes. Raises :class:`AuguryAPIError` (or a subclass) when the server answers an
        error.
        """
        extra = (content, headers)
        response = self._send(method, path, params, json, authenticate, extra)
        if (
            response.status_code == 401
            and authenticate
            and self.access_token
            and self.refresh_token
            and self._access_token_expired(response)
        ):
            self.refresh()
            response = self._send(method, path, params, json, authenticate, extra)
        if response.is_error:
            raise _error_from(response)
        if raw:
            return response.content
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        authenticate: bool,
        extra: tuple[bytes | None, Mapping[str, str] | None] = (None, None),
    ) -> httpx.Response:
        content, more_headers = extra
        headers = dict(more_headers or {})
        credential = self.access_token or self.api_key
        if authenticate and credential:
            headers["Authorization"] = f"Bearer {credential}"
        return self._http.request(
            method,
            path,
            params=_query(params or {}),
            json=json,
            content=content,
            headers=headers,
        )

    def _access_token_expired(self, response: httpx.Response) -> bool:
        if _jwt_expired(self.access_token or ""):
            return True
        try:  # the server's clock may be ahead of ours
            return "expired" in response.json()["error"]["message"].lower()
        except (ValueError, KeyError, TypeError):
            return False

    def _keep_tokens(self, answer: JSON) -> JSON:
        self.access_token = answer["access_token"]
        self.refresh_token = answer["refresh_token"]
        return answer

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- server and your own session ----------------------------------------------------

    def health(self) -> JSON:
        """Liveness and readiness of the server (no credentials needed)."""
        return self.request("GET", "/health", authenticate=False)

    def signup(
        self,
        email: str,
        password: str,
        name: str | None = None,
        organization_name: str | None = None,
    ) -> JSON:
        """Create an account and its organization, and log in (the client keeps the tokens)."""
        body = _body(email=email, password=password, name=name, organization_name=organization_name)
        answer = self.request("POST", "/auth/signup", json=body, authenticate=False)
        return self._keep_tokens(answer)

    def login(self, email: str, password: str, organization_id: int | None = None) -> JSON:
        """Log in with email and password (the client keeps the tokens)."""
        body = _body(email=email, password=password, organization_id=organization_id)
        answer = self.request("POST", "/auth/login", json=body, authenticate=False)
        return self._keep_tokens(answer)

    def refresh(self) -> JSON:
        """Exchange the refresh token for new tokens (the client keeps them)."""
        if not self.refresh_token:
            raise AuthenticationError(401, "AUTHENTICATION_FAILED", "No refresh token to use.")
        answer = self.request(
            "POST", "/auth/refresh", json={"refresh_token": self.refresh_token}, authenticate=False
        )
        return self._keep_tokens(answer)

    def logout(self) -> None:
        """End this login on the server and forget its tokens."""
        self.request("POST", "/auth/logout")
        self.access_token = self.refresh_token = None

    def switch_organization(self, organization_id: int) -> JSON:
        """Act in another organization you belong to (the client keeps the new tokens)."""
        answer = self.request("POST", "/auth/switch", json={"organization_id": organization_id})
        return self._keep_tokens(answer)

    def change_password(self, current_password: str, new_password: str) -> None:
        """Change your password; your other logins end."""
        self.request(
            "POST",
            "/auth/password/change",
            json={"current_password": current_password, "new_password": new_password},
        )

    def forgot_password(self, email: str) -> JSON:
        """Ask for a password-reset mail (answered the same whether the account exists or not)."""
        return self.request(
            "POST", "/auth/password/forgot", json={"email": email}, authenticate=False
        )

    def reset_password(self, token: str, new_password: str) -> None:
        """Choose a new password with the token from the reset mail; all logins end."""
        self.request(
            "POST",
            "/auth/password/reset",
            json={"token": token, "new_password": new_password},
            authenticate=False,
        )

    def me(self) -> JSON:
        """Your profile, the organization you act in, and all your organizations."""
        return self.request("GET", "/users/me")

    def update_me(self, *, name: str | None = None) -> JSON:
        """Change your display name."""
        return self.request("PATCH", "/users/me", json={"name": name})

    def preferences(self) -> JSON:
        """Your preferences: theme, language, time zone."""
        return self.request("GET", "/users/me/preferences")

    def update_preferences(
        self,
        *,
        theme: str | None = None,
        language: str | None = None,
        timezone: str | None = None,
    ) -> JSON:
        """Change your preferences (``theme``: light, dark or system; ``timezone``: an
        IANA name); None leaves one as it is."""
        body = _body(theme=theme, language=language, timezone=timezone)
        return self.request("PATCH", "/users/me/preferences", json=body)

"""LLM providers: OpenAI-compatible endpoints an organization lets read its questions.

A provider is an alternative reader, never a different engine: it is asked for the
same structured plan the offline parser makes (:mod:`augury.engines.ask.llm` writes the
prompt and checks the reply), and that plan runs through the tables engine like any
other. What it writes is never executed and never reaches SQL as text.

Records (per organization): name, base URL, model, API key, the default flag and a
timeout. The key is stored only encrypted: a Fernet token (AES-128-CBC with an
HMAC-SHA256) under a key derived from the server's secret (``Settings.signing_key``)
by HKDF-SHA256, so a copy of the database alone does not reveal it; it is never
returned (``has_key`` and its last 4 characters). A changed server secret makes stored
keys unreadable: the provider then fails with a message saying to set the key again.

The call (:func:`complete`) is a POST to ``{base_url}/chat/completions`` at an address
checked like alert webhooks': public addresses only, after DNS, unless the operator
allows more (``analytics.allowed_private_networks``, which is how a local model server
is admitted); the connection goes to the checked address, redirects are not
followed, the reply is read up to :data:`MAX_REPLY_BYTES`, and the whole call is
bounded by the provider's ``timeout_s``. Each call's latency is recorded
(:class:`~augury.analytics.models.AIProviderCall`, the last :data:`KEPT_CALLS` per
provider): their median is the provider's response time in ``/ai/models``. A call
whose failure ends the request in an error (502) is rolled back with it, so the
figures count the calls that answered a request or a test.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import ssl
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete as sql_delete
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts import org_settings
from augury.accounts.principal import Principal
from augury.alerts.channels.destinations import (
    DestinationRefused,
    check_destination,
    resolve_destination,
)
from augury.analytics.models import AIProvider, AIProviderCall
from augury.analytics.schemas import ProviderCreate, ProviderUpdate
from augury.audit import service as audit
from augury.config import Settings
from augury.engines.ask import llm
from augury.engines.ask.context import TableContext
from augury.engines.ask.parser import AskError
from augury.engines.ask.plan import Plan, describe
from augury.errors import Conflict, PermissionDenied, ValidationFailed
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate

KIND = "openai-compatible"
CAPABILITIES = ["query_understanding"]
MAX_REPLY_BYTES = 1_000_000
KEPT_CALLS = 100
"""Calls kept per provider; their median latency is its response time."""
HINT_MIN_LENGTH = 12
"""Shorter keys get no hint: 4 characters of a short key are too much of it."""
_HKDF_INFO = b"augury ai provider api key v1"
_ERROR_CHARS = 300


class ProviderFailed(Exception):
    """A provider gave no usable plan. ``reason``: ``refused`` (an address augury may
    not reach), ``unreachable``, ``timeout``, ``http_error``, ``bad_reply`` (not a chat
    completion), ``not_a_plan``, ``key_unreadable``."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class Proposal:
    """A provider's plan for a question, how far the data backs it, and what to say."""

    plan: Plan
    confidence: float
    notes: list[str]
    engine: str


# --- the key --------------------------------------------------------------------------------


def _fernet(settings: Settings) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(settings.derived_key(_HKDF_INFO)))


def encrypt_key(settings: Settings, api_key: str) -> str:
    return _fernet(settings).encrypt(api_key.encode()).decode("ascii")


def decrypt_key(settings: Settings, token: str) -> str:
    try:
        return _fernet(settings).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError) as exc:
        raise ProviderFailed(
            "key_unreadable",
            "the stored API key cannot be decrypted (the server's secret changed?): set it again",
        ) from exc


def _hint(api_key: str) -> str | None:
    return api_key[-4:] if len(api_key) >= HINT_MIN_LENGTH else None


def _set_key(settings: Settings, provider: AIProvider, api_key: str | None) -> None:
    provider.api_key_encrypted = None if api_key is None else encrypt_key(settings, api_key)
    provider.key_hint = None if api_key is None else _hint(api_key)


# --- records --------------------------------------------------------------------------------

AUDITED = ("name", "base_url", "model", "is_default", "timeout_s")


def _snapshot(provider: AIProvider) -> dict:
    """What the audit log keeps: the settings, and whether a key is set (the encrypted
    token is compared, so a new key shows as a change, then masked)."""
    return {**audit.snapshot(provider, AUDITED), "api_key": provider.api_key_encrypted}


def _mask(details: dict) -> dict:
    if "api_key" in details:
        details["api_key"] = "(set)" if details["api_key"] else None
    return details


def _record(session: Session, principal: Principal, action: str, provider: AIProvider, **kw: Any):
    audit.record_change(
        session=session,
        principal=principal,
        action=f"ai.provider.{action}",
        target_type="ai_provider",
        target_id=provider.id,
        mask=_mask,
        **kw,
    )


def get(session: Session, org_id: int, provider_id: int) -> AIProvider:
    return get_owned(session, AIProvider, org_id, provider_id, "Provider")


def list_page(session: Session, org_id: int, page: PageParams) -> tuple[list[AIProvider], int]:
    stmt = select(AIProvider).where(AIProvider.org_id == org_id).order_by(AIProvider.id)
    return paginate(session, stmt, page)


def create(
    session: Session, principal: Principal, settings: Settings, body: ProviderCreate
) -> AIProvider:
    _unique_name(session, principal.org_id, body.name)
    _check_allowed(session, principal.org_id, body.model)
    provider = AIProvider(
        org_id=principal.org_id,
        name=body.name,
        base_url=check_url(body.base_url, settings),
        model=body.model,
        is_default=body.is_default,
        timeout_s=body.timeout_s,
        created_by_id=principal.user_id,
    )
    _set_key(settings, provider, body.api_key)
    if body.is_default:
        _clear_default(session, principal.org_id)
    session.add(provider)
    session.flush()
    _record(session, principal, "create", provider, after=_snapshot(provider))
    return provider


def update_provider(
    session: Session,
    principal: Principal,
    settings: Settings,
    provider: AIProvider,
    body: ProviderUpdate,
) -> AIProvider:
    """Change what ``body`` gives; ``api_key: null`` removes the key."""
    before = _snapshot(provider)
    given = body.model_fields_set
    if body.name is not None and body.name != provider.name:
        _unique_name(session, provider.org_id, body.name)
        provider.name = body.name
    if body.base_url is not None:
        provider.base_url = check_url(body.base_url, settings)
    if body.model is not None:
        _check_allowed(session, provider.org_id, body.model)
        provider.model = body.model
    if body.timeout_s is not None:
        provider.timeout_s = body.timeout_s
    if "api_key" in given:
        _set_key(settings, provider, body.api_key)
    if body.is_default is not None:
        if body.is_default and not provider.is_default:
            _clear_default(session, provider.org_id)
        provider.is_default = body.is_default
    provider.updated_at = clock.now()
    _record(session, principal, "update", provider, before=before, after=_snapshot(provider))
    return provider


def delete_provider(session: Session, principal: Principal, provider: AIProvider) -> None:
    _record(session, principal, "delete", provider, before=_snapshot(provider))
    session.delete(provider)
    session.flush()


def _unique_name(session: Session, org_id: int, name: str) -> None:
    taken = session.scalar(
        select(AIProvider.id).where(AIProvider.org_id == org_id, AIProvider.name == name)
    )
    if taken is not None:
        raise Conflict(f"A provider named {name!r} exists.", details={"name": name})


def _clear_default(session: Session, org_id: int) -> None:
    session.execute(
        update(AIProvider)
        .where(AIProvider.org_id == org_id, AIProvider.is_default.is_(True))
        .values(is_default=False)
    )


def check_url(url: str, settings: Settings) -> str:
    """``url`` without its trailing ``/``, if it is an http(s) URL with a host, without
    credentials, query or fragment, whose host is not a non-public address the
    operator has not allowed (names are checked again, after DNS, at each call)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - a port out of range raises here
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL, UnicodeError) as exc:
        raise _bad_url(f"base_url is not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise _bad_url("base_url is an http or https URL with a host.")
    if parts.username is not None or parts.password is not None:
        raise _bad_url("base_url holds no credentials: give the key as api_key.")
    if parts.query or parts.fragment:
        raise _bad_url("base_url has no query or fragment.")
    try:
        check_destination(url, settings.analytics.allowed_private_networks)
    except DestinationRefused as exc:
        raise ValidationFailed(
            "base_url points to a private, loopback or link-local address, which augury "
            "may not reach unless the operator allows it "
            "(AUGURY_ANALYTICS__ALLOWED_PRIVATE_NETWORKS).",
            details={"reason": "DESTINATION_REFUSED", "base_url": url},
        ) from exc
    return url.rstrip("/")


def _bad_url(message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"reason": "INVALID_URL"})


def read(provider: AIProvider) -> dict:
    """The provider as the API answers it: never its key."""
    return {
        "id": provider.id,
        "name": provider.name,
        "provider": KIND,
        "base_url": provider.base_url,
        "model": provider.model,
        "has_key": provider.api_key_encrypted is not None,
        "key_hint": provider.key_hint,
        "is_default": provider.is_default,
        "timeout_s": provider.timeout_s,
        "created_at": provider.created_at,
        "updated_at": provider.updated_at,
    }


def _check_allowed(session: Session, org_id: int, model: str) -> None:
    """Refuse to set a model outside the organization's ``allowed_models`` (422)."""
    allowed = org_settings.allowed_models(session, org_id)
    if allowed is not None and model not in allowed:
        raise ValidationFailed(
            f"The model {model!r} is not allowed in this organization "
            f"(allowed: {', '.join(allowed) or 'none'}).",
            details={"field": "model", "reason": "MODEL_NOT_ALLOWED", "allowed_models": allowed},
        )


def check_usable(session: Session, provider: AIProvider) -> AIProvider:
    """``provider``, unless its model left the organization's ``allowed_models`` after
    it was set (403: an admin changes the provider's model or the list)."""
    allowed = org_settings.allowed_models(session, provider.org_id)
    if allowed is not None and provider.model not in allowed:
        raise PermissionDenied(
            f"The provider {provider.name!r} uses the model {provider.model!r}, which this "
            f"organization no longer allows (allowed: {', '.join(allowed) or 'none'}).",
            details={
                "reason": "MODEL_NOT_ALLOWED",
                "provider_id": provider.id,
                "model": provider.model,
                "allowed_models": allowed,
            },
        )
    return provider


def pick(session: Session, org_id: int, engine: str | int) -> AIProvider | None:
    """The provider ``engine`` names: none for ``offline``, the organization's default
    (if any) for ``auto``, else the organization's provider with that id (404 for any
    other). A provider whose model the organization does not allow is refused (403)."""
    if engine == "offline":
        return None
    if engine == "auto":
        found = session.scalar(
            select(AIProvider)
            .where(AIProvider.org_id == org_id, AIProvider.is_default.is_(True))
            .order_by(AIProvider.id)
            .limit(1)
        )
        return None if found is None else check_usable(session, found)
    return check_usable(session, get(session, org_id, int(engine)))


# --- asking ---------------------------------------------------------------------------------


class Proposer:
    """Asks one provider for plans, recording each call; ``fallback``: the request
    chose ``auto``, so a failure leaves the question to the offline parser."""

    def __init__(
        self, session: Session, settings: Settings, provider: AIProvider, *, fallback: bool
    ):
        self.session = session
        self.settings = settings
        self.provider = provider
        self.fallback = fallback

    @property
    def name(self) -> str:
        return self.provider.name

    def propose(self, question: str, context: TableContext) -> Proposal:
        """The provider's plan for ``question``. Raises :class:`ProviderFailed`, or
        :class:`AskError` (``no_column``) for a plan naming columns the data lacks."""
        p = self.provider
        started = time.perf_counter()
        try:
            key = (
                None
                if p.api_key_encrypted is None
                else decrypt_key(self.settings, p.api_key_encrypted)
            )
            text = complete(
                p.base_url,
                p.model,
                llm.messages_for(question, context),
                api_key=key,
                timeout_s=p.timeout_s,
                allowed=self.settings.analytics.allowed_private_networks,
            )
            plan = llm.plan_from_reply(text, context)
        except ProviderFailed as exc:
            self._record(started, exc.message)
            raise
        except AskError as exc:
            self._record(started, exc.message)
            if exc.details.get("reason") == "no_column":
                raise
            raise ProviderFailed("not_a_plan", exc.message) from exc
        self._record(started, None)
        confidence, doubts = llm.confidence_of(plan, context)
        notes = [f"the plan was proposed by {p.name} ({p.model})", *doubts]
        return Proposal(plan, confidence, notes, f"provider:{p.name}")

    def _record(self, started: float, error: str | None) -> None:
        record_call(self.session, self.provider, (time.perf_counter() - started) * 1000, error)


def record_call(session: Session, provider: AIProvider, latency_ms: float, error: str | None):
    """Keep one call's latency and outcome (and only the last :data:`KEPT_CALLS`)."""
    session.add(
        AIProviderCall(
            provider_id=provider.id,
            latency_ms=round(latency_ms, 1),
            ok=error is None,
            error=None if error is None else error[:_ERROR_CHARS],
        )
    )
    session.flush()
    kept = (
        select(AIProviderCall.id)
        .where(AIProviderCall.provider_id == provider.id)
        .order_by(AIProviderCall.id.desc())
        .limit(KEPT_CALLS)
    )
    session.execute(
        sql_delete(AIProviderCall).where(
            AIProviderCall.provider_id == provider.id, AIProviderCall.id.not_in(kept)
        )
    )


def test(session: Session, settings: Settings, provider: AIProvider) -> dict:
    """Ask :data:`~augury.engines.ask.llm.SAMPLE_QUESTION` of a tiny built-in table
    through the provider: whether a plan that fits the table came back, how long it
    took, what went wrong."""
    check_usable(session, provider)
    proposer = Proposer(session, settings, provider, fallback=False)
    started = time.perf_counter()
    outcome: dict[str, Any] = {"ok": False, "error": None, "plan": None, "words": None}
    try:
        proposal = proposer.propose(llm.SAMPLE_QUESTION, llm.sample_context())
        outcome.update(ok=True, plan=proposal.plan.to_dict(), words=describe(proposal.plan))
    except (ProviderFailed, AskError) as exc:
        outcome["error"] = exc.message
    latency = round((time.perf_counter() - started) * 1000, 1)
    return {**outcome, "latency_ms": latency, "question": llm.SAMPLE_QUESTION}


# --- the call -------------------------------------------------------------------------------


def complete(
    base_url: str,
    model: str,
    messages: list[dict[str, str]],
    *,
    api_key: str | None,
    timeout_s: float,
    allowed: Sequence[str] = (),
) -> str:
    """The reply text of an OpenAI-compatible chat completion (``temperature`` 0, a
    JSON object asked for), within ``timeout_s`` in all, through :func:`post`. Raises
    :class:`ProviderFailed`."""
    body = {
        "model": model,
        "messages": messages,
        "temperature": 0,
        "response_format": {"type": "json_object"},
    }
    with post(base_url, body, api_key=api_key, timeout_s=timeout_s, allowed=allowed) as sent:
        raw = _read(sent.response, sent.deadline, timeout_s)
    text = scrub(raw.decode("utf-8", "replace"), api_key)
    status = sent.response.status_code
    if not 200 <= status < 300:
        snippet = " ".join(text.split())[:_ERROR_CHARS]
        raise ProviderFailed("http_error", f"HTTP {status}: {snippet}".rstrip(": "))
    return content(text)


def scrub(text: str, api_key: str | None) -> str:
    """``text`` (a provider's reply or error) without the API key, should it echo it."""
    return text.replace(api_key, "…") if api_key else text


def endpoint(base_url: str) -> tuple[httpx.URL, str]:
    """``{base_url}/chat/completions`` and its host, or :class:`ProviderFailed`."""
    try:
        url = httpx.URL(base_url.rstrip("/") + "/chat/completions")
        host = url.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise ProviderFailed("unreachable", f"invalid base_url: {exc}") from exc
    if url.scheme not in ("http", "https") or not host:
        raise ProviderFailed("unreachable", "base_url is not an http(s) URL with a host")
    return url, host


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context (the system's certificates, checked) for every provider call:
    making one loads the certificate store, about 20 ms, which a new ``httpx.Client``
    per call otherwise spent even for a plain-http local model server."""
    return ssl.create_default_context()


@dataclass
class Sent:
    """A provider's answer to :func:`post`, its body not read yet, and when the call's
    time is up (a reader stops there)."""

    response: httpx.Response
    deadline: float


@contextlib.contextmanager
def post(
    base_url: str,
    body: dict[str, Any],
    *,
    api_key: str | None,
    timeout_s: float,
    allowed: Sequence[str] = (),
    accept: str = "application/json",
) -> Iterator[Sent]:
    """POST ``body`` to ``{base_url}/chat/completions`` and hand over the answer while
    its body is still to read (a JSON completion or a stream of events).

    The host is resolved and checked by
    :func:`~augury.alerts.channels.destinations.resolve_destination` (``allowed``: the
    operator's private networks or host names), and each checked address is tried in
    turn; the URL's host stays in ``Host`` and in TLS (SNI, certificate), so DNS cannot
    answer differently between the check and the connection. Redirects are not
    followed. Whatever fails, connecting or reading inside the ``with`` block, is a
    :class:`ProviderFailed`: ``refused``, ``unreachable`` or ``timeout``."""
    deadline = time.monotonic() + timeout_s
    url, host = endpoint(base_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        addresses = resolve_destination(host, port, allowed)
    except DestinationRefused as exc:
        raise ProviderFailed(
            "refused", f"{host} is a private or local address augury may not reach"
        ) from exc
    except (OSError, UnicodeError) as exc:
        raise ProviderFailed("unreachable", f"{host} does not resolve") from exc
    headers = {
        "Content-Type": "application/json",
        "Accept": accept,
        "Host": url.netloc.decode("ascii"),
    }
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    content_bytes = json.dumps(body).encode()
    try:
        with httpx.Client(
            timeout=timeout_s, follow_redirects=False, verify=tls_context()
        ) as client:
            for i, address in enumerate(addresses):
                request = client.build_request(
                    "POST",
                    url.copy_with(host=address),
                    content=content_bytes,
                    headers=headers,
                    extensions=extensions,
                )
                try:
                    response = client.send(request, stream=True)
                except httpx.ConnectError:
                    if i == len(addresses) - 1 or time.monotonic() >= deadline:
                        raise
                    continue
                try:
                    yield Sent(response, deadline)
                finally:
                    response.close()
                return
    except httpx.TimeoutException as exc:
        raise ProviderFailed("timeout", f"no answer within {timeout_s:g} s") from exc
    except httpx.HTTPError as exc:
        raise ProviderFailed("unreachable", f"{host} cannot be reached") from exc


def _read(response: httpx.Response, deadline: float, timeout_s: float) -> bytes:
    """The body, up to :data:`MAX_REPLY_BYTES`, by ``deadline`` (a server dripping
    bytes cannot hold the request past the provider's timeout)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            raise ProviderFailed("bad_reply", f"the reply is over {MAX_REPLY_BYTES} bytes")
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout(f"over {timeout_s:g} s")
    return b"".join(chunks)


def content(text: str) -> str:
    """``choices[0].message.content`` of a chat completion."""
    try:
        content = json.loads(text)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ProviderFailed("bad_reply", "the reply is not a chat completion") from exc
    if not isinstance(content, str):
        raise ProviderFailed("bad_reply", "the reply's message has no text")
    return content


# --- the engines on offer -------------------------------------------------------------------


def models(session: Session, org_id: int, bench: dict | None = None) -> list[dict]:
    """The organization's providers as ``/ai/models`` lists them. ``response_time``:
    the median seconds of the last recorded calls; ``status``: ``error`` when the last
    call failed, else ``active``; ``accuracy``: the Ask benchmark's through a provider
    (``bench``: its ``model``, ``accuracy``, ``measured_on``) when it ran this model."""
    found = session.scalars(
        select(AIProvider).where(AIProvider.org_id == org_id).order_by(AIProvider.id)
    ).all()
    return [_model(session, p, bench) for p in found]


def _model(session: Session, provider: AIProvider, bench: dict | None) -> dict:
    calls = session.execute(
        select(AIProviderCall.latency_ms, AIProviderCall.ok)
        .where(AIProviderCall.provider_id == provider.id)
        .order_by(AIProviderCall.id.desc())
        .limit(KEPT_CALLS)
    ).all()
    measured = bench is not None and bench.get("model") == provider.model
    return {
        "model_id": provider.model,
        "name": provider.name,
        "provider": KIND,
        "capabilities": list(CAPABILITIES),
        "status": "error" if calls and not calls[0].ok else "active",
        "offline": False,
        "provider_id": provider.id,
        "is_default": provider.is_default,
        "performance_metrics": {
            "accuracy": bench["accuracy"] if measured and bench else None,
            "measured_on": bench["measured_on"] if measured and bench else None,
            "response_time": round(statistics.median(c.latency_ms for c in calls) / 1000, 4)
            if calls
            else None,
            "calls": len(calls),
        },
    }

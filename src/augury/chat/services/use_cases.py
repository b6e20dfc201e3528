"""Use cases: create, read, change and delete them, open and close them.

A use case is one chatbot (Anaimo's Use case). Its public ``hash`` (random, URL-safe,
unique) names it to the website widget; it is not a secret, and it never changes. A
closed use case keeps its chats and knowledge but takes no new chats or visitor
messages (the chats service answers 409 for them). The provider that writes its
answers, when one is named, must be one of the organization's AI providers.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.analytics import providers
from augury.audit import service as audit
from augury.chat.models import ChatPassage, ChatUseCase, UseCaseStatus
from augury.chat.schemas import UseCaseCreate, UseCaseUpdate
from augury.errors import Conflict, NotFound, ValidationFailed
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate
from augury.store.text import contains

EDITABLE = (
    "name",
    "description",
    "welcome",
    "instructions",
    "temperature",
    "max_tokens",
    "strict",
    "min_confidence",
    "provider_id",
    "words_for_manual",
    "words_for_attention",
    "timeout_for_auto_msg_s",
    "auto_msg",
    "manual_message",
    "allowed_origins",
)
AUDITED = (*EDITABLE, "status")
HASH_BYTES = 18
"""``secrets.token_urlsafe(18)``: 24 characters, 144 random bits."""


def _check_provider(session: Session, org_id: int, provider_id: int | None) -> None:
    """A named provider must be the organization's (another's reads as missing): 422."""
    if provider_id is None:
        return
    try:
        providers.get(session, org_id, provider_id)
    except NotFound:
        raise ValidationFailed(
            f"No AI provider {provider_id} in this organization.",
            details={"field": "provider_id", "provider_id": provider_id},
        ) from None


def new_hash(session: Session) -> str:
    """A random public hash no other use case has."""
    while True:
        value = secrets.token_urlsafe(HASH_BYTES)
        if session.scalar(select(ChatUseCase.id).where(ChatUseCase.hash == value)) is None:
            return value


def _record(
    session: Session,
    principal: Principal,
    action: str,
    use_case: ChatUseCase,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    audit.record_change(
        session=session,
        principal=principal,
        action=f"chat.use_case.{action}",
        target_type="chat_use_case",
        target_id=use_case.id,
        before=before,
        after=after,
    )


def create(*, session: Session, principal: Principal, body: UseCaseCreate) -> ChatUseCase:
    """A new, open use case with no knowledge yet."""
    _check_provider(session, principal.org_id, body.provider_id)
    now = clock.now()
    use_case = ChatUseCase(
        org_id=principal.org_id,
        **body.model_dump(),
        status=UseCaseStatus.OPEN,
        opened_at=now,
        hash=new_hash(session),
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(use_case)
    session.flush()
    _record(session, principal, "create", use_case, after=audit.snapshot(use_case, AUDITED))
    return use_case


def get(*, session: Session, org_id: int, use_case_id: int) -> ChatUseCase:
    """The organization's use case ``use_case_id``; another organization's is a 404."""
    return get_owned(session, ChatUseCase, org_id, use_case_id, "Use case")


def get_by_hash(*, session: Session, hash: str) -> ChatUseCase:
    """The use case a widget's hash names (any organization's: the hash is public)."""
    found = session.scalar(select(ChatUseCase).where(ChatUseCase.hash == hash))
    if found is None:
        raise NotFound("Use case not found.")
    return found


def find(*, session: Session, org_id: int, ref: str) -> ChatUseCase:
    """A use case named by its id, its hash or its exact name (the CLI's USECASE)."""
    ref = ref.strip()
    stmt = select(ChatUseCase).where(ChatUseCase.org_id == org_id)
    conditions = [ChatUseCase.hash == ref, ChatUseCase.name == ref]
    if ref.isdecimal() and int(ref) < 2**31:
        conditions.insert(0, ChatUseCase.id == int(ref))
    rows = list(session.scalars(stmt.where(or_(*conditions)).order_by(ChatUseCase.id)))
    if not rows:
        raise NotFound(f"No use case {ref!r}.")
    for attr in ("id", "hash", "name"):  # an id beats a name that is digits
        for row in rows:
            if str(getattr(row, attr)) == ref:
                return row
    return rows[0]


def list_page(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    q: str | None = None,
    status: str | None = None,
) -> tuple[list[ChatUseCase], int]:
    """The organization's use cases, most recently changed first; ``q`` in the name."""
    stmt = select(ChatUseCase).where(ChatUseCase.org_id == org_id)
    if q:
        stmt = stmt.where(contains(ChatUseCase.name, q))
    if status:
        stmt = stmt.where(ChatUseCase.status == status)
    stmt = stmt.order_by(ChatUseCase.updated_at.desc(), ChatUseCase.id.desc())
    return paginate(session, stmt, page)


def update(
    *, session: Session, principal: Principal, use_case: ChatUseCase, body: UseCaseUpdate
) -> ChatUseCase:
    """Change what ``body`` gives."""
    changes = body.model_dump(exclude_unset=True)
    if "provider_id" in changes:
        _check_provider(session, use_case.org_id, changes["provider_id"])
    before = audit.snapshot(use_case, AUDITED)
    for field, value in changes.items():
        setattr(use_case, field, value)
    use_case.updated_at = clock.now()
    session.flush()
    _record(session, principal, "update", use_case, before, audit.snapshot(use_case, AUDITED))
    return use_case


def delete(*, session: Session, principal: Principal, use_case: ChatUseCase) -> None:
    """Delete the use case with its knowledge, passages and chats."""
    _record(session, principal, "delete", use_case, before=audit.snapshot(use_case, AUDITED))
    from augury.chat.services import index  # index imports this module's callers

    index.forget(use_case.id)
    session.delete(use_case)
    session.flush()


def open(*, session: Session, principal: Principal, use_case: ChatUseCase) -> ChatUseCase:
    """Open it for new chats (an open one stays as it is)."""
    if use_case.status != UseCaseStatus.OPEN:
        before = audit.snapshot(use_case, AUDITED)
        use_case.status = UseCaseStatus.OPEN
        use_case.opened_at = clock.now()
        use_case.closed_at = None
        use_case.updated_at = clock.now()
        _record(session, principal, "open", use_case, before, audit.snapshot(use_case, AUDITED))
        session.flush()
    return use_case


def close(*, session: Session, principal: Principal, use_case: ChatUseCase) -> ChatUseCase:
    """Close it: no new chats or visitor messages until it is opened again."""
    if use_case.status != UseCaseStatus.CLOSED:
        before = audit.snapshot(use_case, AUDITED)
        use_case.status = UseCaseStatus.CLOSED
        use_case.closed_at = clock.now()
        use_case.updated_at = clock.now()
        _record(session, principal, "close", use_case, before, audit.snapshot(use_case, AUDITED))
        session.flush()
    return use_case


def require_open(use_case: ChatUseCase) -> ChatUseCase:
    """The use case if open; a closed one is a 409 (for the chats service)."""
    if use_case.status != UseCaseStatus.OPEN:
        raise Conflict(
            f"The use case '{use_case.name}' is closed: it takes no new chats or messages.",
            details={"use_case_id": use_case.id, "status": use_case.status},
        )
    return use_case


def passage_count(session: Session, use_case_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ChatPassage)
            .where(ChatPassage.use_case_id == use_case_id)
        )
        or 0
    )


def index_state(session: Session, use_case: ChatUseCase) -> dict[str, Any]:
    """``{status, version, passages, error, indexed_at}``."""
    return {
        "status": use_case.index_status,
        "version": use_case.index_version,
        "passages": passage_count(session, use_case.id),
        "error": use_case.index_error,
        "indexed_at": use_case.indexed_at,
    }


def fields(session: Session, use_case: ChatUseCase) -> dict[str, Any]:
    """A use case as the API returns it (no provider's key: only its id)."""
    return {
        "id": use_case.id,
        **{f: getattr(use_case, f) for f in EDITABLE},
        "words_for_manual": list(use_case.words_for_manual or []),
        "words_for_attention": list(use_case.words_for_attention or []),
        "allowed_origins": list(use_case.allowed_origins or []),
        "hash": use_case.hash,
        "status": use_case.status,
        "opened_at": use_case.opened_at,
        "closed_at": use_case.closed_at,
        "tokens": use_case.tokens,
        "index": index_state(session, use_case),
        "created_at": use_case.created_at,
        "updated_at": use_case.updated_at,
        "created_by_id": use_case.created_by_id,
    }

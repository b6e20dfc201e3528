"""Routes of use cases: ``/chat/use-cases`` (create, list, read, change, delete) and
Anaimo's open and close."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from augury.api.deps import Reader, SessionDep, Writer
from augury.api.pagination import PageDep, make_page
from augury.chat.deps import UseCaseDep
from augury.chat.schemas import UseCaseCreate, UseCaseUpdate
from augury.chat.services import use_cases

router = APIRouter()


@router.post("/use-cases", status_code=status.HTTP_201_CREATED)
def create_use_case(body: UseCaseCreate, principal: Writer, session: SessionDep) -> dict:
    """Create a chatbot (open, with no knowledge yet): its welcome message, how it
    answers (`temperature`, `max_tokens`, `strict` and `min_confidence`, `provider_id`:
    one of the organization's AI providers, none for the offline answer) and its
    handover rules. Its public `hash` names it to the website widget."""
    use_case = use_cases.create(session=session, principal=principal, body=body)
    return use_cases.fields(session, use_case)


@router.get("/use-cases")
def list_use_cases(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200, description="In the name.")] = None,
    state: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None,
) -> dict:
    """The organization's use cases, most recently changed first."""
    items, total = use_cases.list_page(
        session=session, org_id=principal.org_id, page=page, q=q, status=state
    )
    return make_page([use_cases.fields(session, u) for u in items], total, page)


@router.get("/use-cases/{use_case_id}")
def get_use_case(use_case: UseCaseDep, session: SessionDep) -> dict:
    """A use case with its index's state and its knowledge's tokens."""
    return use_cases.fields(session, use_case)


@router.patch("/use-cases/{use_case_id}")
def update_use_case(
    body: UseCaseUpdate, principal: Writer, use_case: UseCaseDep, session: SessionDep
) -> dict:
    """Change what is given (`null` clears `provider_id` and `timeout_for_auto_msg_s`)."""
    use_cases.update(session=session, principal=principal, use_case=use_case, body=body)
    return use_cases.fields(session, use_case)


@router.delete("/use-cases/{use_case_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_use_case(principal: Writer, use_case: UseCaseDep, session: SessionDep) -> Response:
    """Delete the use case with its knowledge, passages and chats."""
    use_cases.delete(session=session, principal=principal, use_case=use_case)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/use-cases/{use_case_id}/open")
def open_use_case(principal: Writer, use_case: UseCaseDep, session: SessionDep) -> dict:
    """Open it for new chats (Anaimo's `open`)."""
    use_cases.open(session=session, principal=principal, use_case=use_case)
    return use_cases.fields(session, use_case)


@router.post("/use-cases/{use_case_id}/close")
def close_use_case(principal: Writer, use_case: UseCaseDep, session: SessionDep) -> dict:
    """Close it (Anaimo's `close`): no new chats or visitor messages (409) until opened."""
    use_cases.close(session=session, principal=principal, use_case=use_case)
    return use_cases.fields(session, use_case)

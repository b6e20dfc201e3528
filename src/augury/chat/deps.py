"""HTTP dependencies of the chat routes: the use case (and piece of knowledge) a path
names, from the principal's organization only (another organization's is a 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from augury.api.deps import ObjectId, Reader, SessionDep
from augury.chat.models import ChatKnowledge, ChatUseCase
from augury.chat.services import knowledge, use_cases


def _use_case(use_case_id: ObjectId, principal: Reader, session: SessionDep) -> ChatUseCase:
    return use_cases.get(session=session, org_id=principal.org_id, use_case_id=use_case_id)


UseCaseDep = Annotated[ChatUseCase, Depends(_use_case)]
"""The path's use case, for anyone of its organization who may read."""


def _knowledge(knowledge_id: ObjectId, use_case: UseCaseDep, session: SessionDep) -> ChatKnowledge:
    return knowledge.get(session, use_case, knowledge_id)


KnowledgeDep = Annotated[ChatKnowledge, Depends(_knowledge)]
"""The path's piece of the path's use case."""

"""HTTP routes of chat under ``/api/v1/chat/…``: the route modules of ``routes/``,
gathered into one router for the composition root."""

from __future__ import annotations

from fastapi import APIRouter

from augury.chat.routes import aichat, chats, knowledge, use_cases, widget

router = APIRouter(prefix="/chat", tags=["chat"])
router.include_router(use_cases.router)
router.include_router(knowledge.router)
router.include_router(chats.router)
router.include_router(aichat.router)
router.include_router(widget.router)

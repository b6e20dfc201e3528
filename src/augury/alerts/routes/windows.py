"""Routes of maintenance windows."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from augury.alerts import schemas
from augury.alerts.deps import WindowDep
from augury.alerts.services import windows
from augury.api.deps import Reader, SessionDep, Writer
from augury.api.pagination import Page, PageDep, make_page

router = APIRouter()


@router.post(
    "/maintenance-windows", status_code=status.HTTP_201_CREATED, response_model=schemas.WindowRead
)
def create_window(body: schemas.WindowCreate, principal: Writer, session: SessionDep):
    """Hold the messages of matching alerts while active: once (`start`, `end`) or
    recurring (`rrule` or `cron`, with `dtstart`, `duration_s` and `timezone`). Detection
    goes on and alerts are recorded; an alert still open when the window ends is sent
    then."""
    return windows.read(windows.create(session, principal, body))


@router.get("/maintenance-windows", response_model=Page[schemas.WindowRead])
def list_windows(principal: Reader, session: SessionDep, page: PageDep):
    rows, total = windows.list_page(session, principal.org_id, page)
    return make_page([windows.read(w) for w in rows], total, page)


@router.get("/maintenance-windows/{window_id}", response_model=schemas.WindowRead)
def get_window(window: WindowDep):
    return windows.read(window)


@router.put("/maintenance-windows/{window_id}", response_model=schemas.WindowRead)
def update_window(
    body: schemas.WindowCreate, principal: Writer, window: WindowDep, session: SessionDep
):
    return windows.read(windows.update(session, principal, window, body))


@router.delete("/maintenance-windows/{window_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_window(principal: Writer, window: WindowDep, session: SessionDep):
    windows.delete(session, principal, window)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""Routes of data sources: ``/data-sources`` (Anodot's ``/api/v2/bc/data-sources``).

Creating, changing, deleting and testing a source, and diverting its streams, need the
``admin`` role (a source holds credentials); anyone of the organization reads them,
credentials masked, and lists what a stream of one could read (``/objects``: the
builder's tables and files, for members who build streams).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from augury.api.deps import MAX_ID, Admin, Reader, SessionDep, SettingsDep
from augury.api.pagination import PageDep, make_page
from augury.collectors.deps import SourceDep
from augury.collectors.schemas import DivertBody, SourceCreate, SourceTypeName, SourceUpdate
from augury.collectors.services import sources

router = APIRouter(prefix="/data-sources")

SourceRef = Annotated[int, Query(ge=1, le=MAX_ID, description="A data source's id.")]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_source(
    body: SourceCreate, principal: Admin, session: SessionDep, settings: SettingsDep
) -> dict:
    """Create a data source (admins): its `type`, where it is (`config`, checked for
    the type: 422 naming the field) and its credentials (`secret`: stored encrypted,
    answered as `***`). A host on a private network is refused unless the operator
    allows it; files are read only under the allowed folders. Names are unique in the
    organization (409)."""
    source = sources.create(session=session, principal=principal, settings=settings, body=body)
    return sources.fields(settings, source)


@router.get("")
def list_sources(
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    type: Annotated[SourceTypeName | None, Query(description="Only this type.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="In the name.")] = None,
) -> dict:
    """The organization's data sources, by name."""
    items, total = sources.list_page(
        session=session, org_id=principal.org_id, page=page, type=type, q=q
    )
    return make_page([sources.fields(settings, s) for s in items], total, page)


@router.get("/find")
def find_sources(
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    searchQuery: Annotated[
        str, Query(max_length=200, description="Text in the name (any case).")
    ] = "",
) -> list[dict]:
    """Anodot's find: the sources whose name holds `searchQuery`, as a plain list."""
    found = sources.find(session=session, org_id=principal.org_id, search_query=searchQuery)
    return [sources.fields(settings, s) for s in found]


@router.post("/test")
def test_new_source(body: SourceCreate, principal: Admin, settings: SettingsDep) -> dict:
    """Test a source before saving it (admins): connect, sign in, list what a stream
    could read. `{"ok": true, "detail", "objects"}`, or `{"ok": false, "code",
    "message"}`: a failed test is an answer (200), not an error."""
    return sources.try_connection(settings=settings, body=body)


@router.post("/divertStreams")
def divert_streams(
    principal: Admin,
    session: SessionDep,
    fromDataSrc: SourceRef,
    toDataSrc: SourceRef,
    body: Annotated[DivertBody, Body(description="The ids of the streams to move.")],
) -> dict:
    """Move streams to another source of the same type (admins), as when a connection
    is replaced: 422 `type_mismatch` for another type, 404 for a source or stream that
    is not the organization's. → `{"moved": [ids]}`."""
    org_id = principal.org_id
    from_source = sources.get(session=session, org_id=org_id, source_id=fromDataSrc)
    to_source = sources.get(session=session, org_id=org_id, source_id=toDataSrc)
    moved = sources.divert(
        session=session,
        principal=principal,
        from_source=from_source,
        to_source=to_source,
        stream_ids=body,
    )
    return {"moved": moved}


@router.get("/{source_id}")
def get_source(source: SourceDep, session: SessionDep, settings: SettingsDep) -> dict:
    """A data source with the streams that read it."""
    return sources.fields(settings, source, sources.streams_of(session, source))


@router.patch("/{source_id}")
def update_source(
    body: SourceUpdate,
    principal: Admin,
    source: SourceDep,
    session: SessionDep,
    settings: SettingsDep,
) -> dict:
    """Change a source (admins): `name`, `config` (replaced whole) and `secret`
    (merged: a key given `null` is removed, one left out keeps its value)."""
    sources.update(
        session=session, principal=principal, settings=settings, source=source, body=body
    )
    return sources.fields(settings, source)


@router.delete("/{source_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_source(
    principal: Admin, source: SourceDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """Delete a source (admins); 409 `source_in_use` while streams read it."""
    sources.delete(session=session, principal=principal, settings=settings, source=source)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{source_id}/test")
def test_source(principal: Admin, source: SourceDep, settings: SettingsDep) -> dict:
    """Test a saved source with its stored credentials (admins); answered as
    `POST /data-sources/test`."""
    return sources.try_saved(settings=settings, source=source)


@router.get("/{source_id}/objects")
def source_objects(source: SourceDep, settings: SettingsDep) -> dict:
    """What a stream of the source could read (tables, files, metric names), for anyone
    of the organization (the stream builder): the saved source's connection test,
    answered without its config or credentials → `{"ok": true, "objects": [...],
    "detail"}`, or `{"ok": false, "code", "message"}` (200: a source that cannot be
    reached is an answer)."""
    return sources.objects(settings=settings, source=source)

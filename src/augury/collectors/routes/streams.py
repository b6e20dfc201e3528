"""Routes of data streams: ``/data-streams`` (Anodot's ``/api/v2/bc/data-streams``).

Any member (``write``) creates, edits, pauses, rewinds and deletes streams; viewers
read them. The routes that read a source now (the preview, a stream's rows as a
dataset, and the check of a stream being saved) are plain ``def`` routes: FastAPI runs
them in its thread pool, so a slow source never blocks the event loop.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status

from augury.api.deps import MAX_ID, Reader, SessionDep, SettingsDep, Writer
from augury.api.pagination import PageDep, make_page
from augury.collectors.deps import StreamDep
from augury.collectors.schemas import (
    RewindBody,
    StatusName,
    StreamBody,
    StreamDataset,
    StreamPreview,
)
from augury.collectors.services import streams

router = APIRouter(prefix="/data-streams")

StreamRef = Annotated[int | None, Query(ge=1, le=MAX_ID, description="The stream's id.")]
StreamName = Annotated[
    str | None, Query(min_length=1, max_length=200, description="The stream's full name.")
]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_stream(
    body: StreamBody, principal: Writer, session: SessionDep, settings: SettingsDep
) -> dict:
    """Create a data stream: the Anodot stream object. Checked with the collect engine
    (schema, time definition, the polling interval and historical range allowed
    together), a SQL query through the read-only check, and, when the source answers,
    against the source's columns; each refusal is a 422 naming the field. The stream
    collects its historical range first, then every polling interval."""
    stream = streams.create(session=session, principal=principal, settings=settings, body=body)
    return streams.fields(stream)


@router.post("/preview")
def preview_stream(
    body: StreamPreview,
    principal: Writer,
    session: SessionDep,
    settings: SettingsDep,
    rows: Annotated[int, Query(ge=1, le=10_000, description="Latest rows to read.")] = 100,
) -> dict:
    """Try a stream object before saving it: read the source's latest rows and show
    the metrics they make → `{"columns", "rows", "metrics": [{"what", "dimensions",
    "points", "first", "last"}], "points", "skipped", ...}`. A source that fails is
    `{"error": {"code", "message"}}` in a 200 (so the builder shows it), as is a stream
    that does not fit the rows (beside them)."""
    return streams.preview(
        session=session, settings=settings, org_id=principal.org_id, body=body, rows=rows
    )


@router.get("")
def list_streams(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200, description="In the name.")] = None,
    source_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Its source.")] = None,
    state: Annotated[StatusName | None, Query(alias="status")] = None,
) -> dict:
    """The organization's data streams, by name."""
    items, total = streams.list_page(
        session=session,
        org_id=principal.org_id,
        page=page,
        q=q,
        source_id=source_id,
        status=state,
    )
    return make_page([streams.fields(s) for s in items], total, page)


@router.get("/find")
def find_streams(
    principal: Reader,
    session: SessionDep,
    searchQuery: Annotated[
        str, Query(max_length=200, description="Text in the name (any case).")
    ] = "",
) -> list[dict]:
    """Anodot's find: the streams whose name holds `searchQuery`, as a plain list of
    full stream objects."""
    found = streams.find(session=session, org_id=principal.org_id, search_query=searchQuery)
    return [streams.fields(s) for s in found]


@router.get("/metrics/total")
def metrics_total(
    principal: Reader,
    session: SessionDep,
    streamId: StreamRef = None,
    streamName: StreamName = None,
    timeRange: Annotated[Literal["day", "week"], Query()] = "day",
) -> dict:
    """How many metrics the stream (`streamId`, or its full `streamName`) created in
    the last day or week → `{"total": n}`."""
    stream = streams.by_ref(
        session=session, org_id=principal.org_id, stream_id=streamId, stream_name=streamName
    )
    return {"total": streams.metrics_total(session=session, stream=stream, time_range=timeRange)}


@router.get("/totals")
def stream_totals(principal: Reader, session: SessionDep, streamId: StreamRef = None) -> dict:
    """What watches the stream's metrics → `{"alerts": {"alerts": [{"id", "title"}],
    "total"}, "dashboards": {...}, "composites": {...}}`."""
    stream = streams.by_ref(
        session=session, org_id=principal.org_id, stream_id=streamId, stream_name=None
    )
    return streams.totals(session=session, stream=stream)


@router.get("/{stream_id}")
def get_stream(stream: StreamDep) -> dict:
    """A data stream: its definition, schedule and collecting state."""
    return streams.fields(stream)


@router.put("/{stream_id}")
def edit_stream(
    body: StreamBody,
    principal: Writer,
    stream: StreamDep,
    session: SessionDep,
    settings: SettingsDep,
    shouldRewind: Annotated[bool, Query(description="Collect the historical range again.")] = False,
) -> dict:
    """Replace the stream's definition (Anodot's edit: send back a `GET`'s answer,
    changed); checked as a new stream is. Its source may change to another of the same
    type. `shouldRewind=true` collects its historical range again."""
    streams.replace(
        session=session,
        principal=principal,
        settings=settings,
        stream=stream,
        body=body,
        rewind=shouldRewind,
    )
    return streams.fields(stream)


@router.put("/{stream_id}/state/{action}")
def set_stream_state(
    action: Literal["pause", "resume"], principal: Writer, stream: StreamDep, session: SessionDep
) -> dict:
    """Pause the stream, or resume it (it catches up from where it stopped) →
    `{"id", "name", "paused"}`."""
    streams.set_paused(
        session=session, principal=principal, stream=stream, paused=action == "pause"
    )
    return {"id": stream.id, "name": stream.name, "paused": stream.paused}


@router.post("/{stream_id}/rewind")
def rewind_stream(
    body: RewindBody, principal: Writer, stream: StreamDep, session: SessionDep
) -> dict:
    """Collect from `from` (epoch seconds or ISO 8601) again: the stream reads forward
    from there (past `to` too: a bucket read again gives the same points, which replace
    their duplicates). At most the longest historical range its polling interval
    allows."""
    streams.rewind(
        session=session, principal=principal, stream=stream, start=body.from_, end=body.to
    )
    return streams.fields(stream)


@router.delete("/{stream_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_stream(
    request: Request,
    principal: Writer,
    stream: StreamDep,
    session: SessionDep,
    deleteMetrics: Annotated[
        bool, Query(description="Delete the metrics the stream created too.")
    ] = True,
) -> Response:
    """Delete the stream and its runs, and (`deleteMetrics`, the default) the metrics
    it created, with their points (a metric another stream writes too is kept)."""
    deleted = streams.delete_stream(
        session=session, principal=principal, stream=stream, delete_metrics=deleteMetrics
    )
    if deleted:
        # The ingestion cache must not hand a deleted id to the next sample of the metric.
        request.app.state.metric_cache.forget(principal.org_id, set(deleted))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{stream_id}/runs")
def list_runs(stream: StreamDep, session: SessionDep, page: PageDep) -> dict:
    """The stream's polls, newest first: window, rows read and used, rows skipped by
    reason, points written, new metrics, error."""
    items, total = streams.runs_page(session=session, stream=stream, page=page)
    return make_page([streams.run_fields(r) for r in items], total, page)


@router.post("/{stream_id}/dataset", status_code=status.HTTP_201_CREATED)
def save_as_dataset(
    body: StreamDataset,
    principal: Writer,
    stream: StreamDep,
    session: SessionDep,
    settings: SettingsDep,
    rows: Annotated[int, Query(ge=1, le=1_000_000, description="Latest rows to save.")] = 10_000,
) -> dict:
    """Save the stream's latest rows, as the source gives them, as a dataset (or the
    next version of the dataset of that name) → 201 the dataset. A source that fails is
    a 502."""
    dataset, version = streams.save_dataset(
        session=session,
        principal=principal,
        settings=settings,
        stream=stream,
        meta=body,
        rows=min(rows, settings.collect.max_rows_per_poll),
    )
    return streams.dataset_fields(session, dataset, version)

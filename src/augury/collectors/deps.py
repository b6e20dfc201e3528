"""HTTP dependencies of the collectors routes: the source or stream a path names, from
the principal's organization only (another organization's is a 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from augury.api.deps import ObjectId, Reader, SessionDep
from augury.collectors.models import DataSource, DataStream
from augury.collectors.services import sources, streams


def _source(source_id: ObjectId, principal: Reader, session: SessionDep) -> DataSource:
    return sources.get(session=session, org_id=principal.org_id, source_id=source_id)


SourceDep = Annotated[DataSource, Depends(_source)]
"""The path's data source, for anyone of its organization who may read."""


def _stream(stream_id: ObjectId, principal: Reader, session: SessionDep) -> DataStream:
    return streams.get(session=session, org_id=principal.org_id, stream_id=stream_id)


StreamDep = Annotated[DataStream, Depends(_stream)]
"""The path's data stream, for anyone of its organization who may read."""

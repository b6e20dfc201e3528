"""Dependencies of the metrics routes: the metric or stream schema a path names (from
the principal's organization only: another organization's id is a 404), and read
access that also takes Anodot's ``?token=``.

The loaders resolve the principal as ``Reader``; a route that changes the row declares
its stricter alias before the loader, so that the role is refused (403) first.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from augury.accounts.principal import Principal
from augury.api.deps import ObjectId, Reader, SessionDep, get_ingest_principal
from augury.metrics import service
from augury.metrics.models import Metric, StreamSchema

SchemaId = Annotated[str, Path(max_length=36, description="Stream schema id.")]


def _token_reader(principal: Annotated[Principal, Depends(get_ingest_principal)]) -> Principal:
    return principal.require("read")


def _metric(metric_id: ObjectId, principal: Reader, session: SessionDep) -> Metric:
    return service.get_or_raise(session=session, org_id=principal.org_id, metric_id=metric_id)


def _stream_schema(schema_id: SchemaId, principal: Reader, session: SessionDep) -> StreamSchema:
    return service.get_schema(session=session, org_id=principal.org_id, schema_id=schema_id)


TokenReader = Annotated[Principal, Depends(_token_reader)]
"""Read access that also accepts Anodot's ``?token=`` (EPS, stream cardinality)."""
MetricDep = Annotated[Metric, Depends(_metric)]
StreamSchemaDep = Annotated[StreamSchema, Depends(_stream_schema)]

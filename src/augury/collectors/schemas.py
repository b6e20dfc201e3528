"""Request bodies of collectors: data sources and the Anodot stream object.

A source body is augury's own (``name``, ``type``, ``config``, ``secret``): unknown
fields are refused. A stream body is Anodot's stream object (camelCase), which people
copy from Anodot or from a ``GET`` of augury's: the fields augury reads are checked
here (shapes and ranges; what a field must name in the organization or in the source
is checked by the services), the keys Anodot (or augury's answer) adds that augury does
not read are accepted (:data:`ANODOT_KEPT` are kept in the stored definition,
:data:`IGNORED` are dropped: the server sets them), and any other key is a 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from augury.collectors.models import SourceType, StreamStatus
from augury.datasets.schemas import DatasetMeta
from augury.engines.collect import schedule
from augury.schemas import StrictModel

MAX_ID = 2**31 - 1
MAX_JSON_KEYS = 100
"""Keys of a source's ``config`` or ``secret`` at most."""
MAX_EPOCH = 2**33
"""A time in a body at most (year 2242), in epoch seconds."""

SourceTypeName = Literal["psql", "mysql", "mariadb", "sqlite", "s3", "folder", "prometheus", "http"]
assert set(get_args(SourceTypeName)) == {t.value for t in SourceType}
PollingInterval = Literal[
    "m1", "m5", "m10", "m15", "m30", "hourly", "h2", "h3", "h4", "h6", "h8", "h12", "daily"
]
assert list(get_args(PollingInterval)) == list(schedule.POLLING_INTERVALS)
StatusName = Literal["pending", "backfilling", "ok", "error"]
assert set(get_args(StatusName)) == {s.value for s in StreamStatus}
TimestampType = Literal[
    "TIMESTAMP", "UNIX_SECONDS", "UNIX_MILLIS", "UNIX_MICROS", "EPOCH_SECONDS", "EPOCH_MILLIS"
]


def _name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("a name may not be blank")
    return value


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_name)]


def _small(value: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if value is not None and len(value) > MAX_JSON_KEYS:
        raise ValueError(f"at most {MAX_JSON_KEYS} keys")
    return value


# --------------------------------------------------------------------------- sources


class SourceCreate(StrictModel):
    """A data source: its ``type``, where it is (``config``) and its credentials
    (``secret``: stored encrypted, never returned). The fields of each type are in the
    collectors README ("Types and their config")."""

    name: Name
    type: SourceTypeName
    config: Annotated[dict[str, Any], AfterValidator(_small)] = Field(default_factory=dict)
    secret: Annotated[dict[str, Any], AfterValidator(_small)] = Field(
        default_factory=dict,
        description="Credentials (passwords, keys, tokens, headers): stored encrypted, "
        "answered only as `***`.",
    )


class SourceUpdate(StrictModel):
    """What changes: ``config`` is replaced whole; ``secret`` is merged (a key given
    ``null`` is removed, a key left out keeps its value)."""

    name: Name | None = None
    config: Annotated[dict[str, Any] | None, AfterValidator(_small)] = None
    secret: Annotated[dict[str, Any | None] | None, AfterValidator(_small)] = None


# --------------------------------------------------------------------------- streams


def _zone(value: str) -> str:
    try:
        schedule.zone(value)
    except schedule.ScheduleError as exc:
        raise ValueError(str(exc)) from None
    return value


TimeZone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_zone)]


class HistoricalDateRange(StrictModel):
    """How far back a new stream collects (``h1`` ... ``y20``; the pairs allowed with
    each polling interval are the seed's table, checked by the service)."""

    constRange: str = Field(min_length=1, max_length=5)


ANODOT_KEPT = (
    "basedOnTemplateId",
    "dimensions",
    "metrics",
    "hasDimreduce",
    "maxMissingFiles",
    "fileNamePrefix",
    "fileNameSuffix",
    "maxBackFillIntervals",
    "pollingResolution",
    "reportType",
    "clientCustomerId",
    "timezone",
    "recordType",
)
"""Anodot keys augury does not read, accepted and kept in the definition (a ``GET``
gives them back)."""

IGNORED = (
    "id",
    "state",
    "status",
    "createTime",
    "modifyTime",
    "watermark",
    "backfillFrom",
    "nextPollTime",
    "lastPollTime",
    "lastSuccessTime",
    "lagSeconds",
    "error",
    "errorCode",
    "rowsRead",
    "pointsWritten",
)
"""What the server sets (Anodot's and augury's state): accepted so that a ``GET``'s
answer can be sent back as it is (Anodot's edit), and dropped."""


class StreamBody(StrictModel):
    """The Anodot data stream object. What a stream of each source type reads is in
    the collectors README; ``schema`` (metric and dimension columns), ``filters`` and
    ``missingDimPolicy`` are checked with the collect engine."""

    name: Name
    dataSourceId: int = Field(ge=1, le=MAX_ID, description="The source the stream reads.")
    type: SourceTypeName | None = Field(
        None, description="The source's type (taken from the source when left out)."
    )
    # SQL
    tableName: str | None = Field(None, min_length=1, max_length=300)
    schemaName: str | None = Field(None, min_length=1, max_length=300)
    customQuery: bool = False
    query: str | None = Field(
        None, max_length=100_000, description="SQL (with `customQuery`) or PromQL."
    )
    timestampColumn: str | None = Field(None, min_length=1, max_length=300)
    timestampType: TimestampType | None = None
    timePattern: str | None = Field(None, min_length=1, max_length=100)
    # files, HTTP
    timeDefinition: Annotated[dict[str, Any] | None, AfterValidator(_small)] = Field(
        None, description="`{timeColumnIdx | path, timePattern}`"
    )
    path: str | None = Field(None, max_length=2000)
    fileNamePattern: str | None = Field(None, min_length=1, max_length=300)
    fileFormat: Literal["csv", "jsonl", "parquet"] | dict[str, Any] | None = Field(
        None,
        description="`csv`, `jsonl` or `parquet`; Anodot's CSV options object is read as "
        "`csv` with its `hasHeader` and `delimiter`.",
    )
    header: bool | None = None
    delimiter: str | None = Field(None, min_length=1, max_length=5)
    jsonPath: str | None = Field(None, min_length=1, max_length=500)
    # the mapping
    schema_: dict[str, Any] = Field(alias="schema", description="`{columns, sourceColumns}`")
    filters: list[dict[str, Any]] = Field(default_factory=list, max_length=100)
    missingDimPolicy: dict[str, Any] | None = None
    # the schedule
    pollingInterval: PollingInterval
    historicalDateRange: HistoricalDateRange | None = None
    delayMinutes: int = Field(0, ge=0, le=10_080)
    timeZone: TimeZone = "UTC"
    paused: bool = False
    # Anodot's keys augury does not read (kept) and the server's (dropped)
    basedOnTemplateId: Any = None
    dimensions: Any = None
    metrics: Any = None
    hasDimreduce: Any = None
    maxMissingFiles: Any = None
    fileNamePrefix: Any = None
    fileNameSuffix: Any = None
    maxBackFillIntervals: Any = None
    pollingResolution: Any = None
    reportType: Any = None
    clientCustomerId: Any = None
    timezone: Any = None
    recordType: Any = None
    id: Any = None
    state: Any = None
    status: Any = None
    createTime: Any = None
    modifyTime: Any = None
    watermark: Any = None
    backfillFrom: Any = None
    nextPollTime: Any = None
    lastPollTime: Any = None
    lastSuccessTime: Any = None
    lagSeconds: Any = None
    error: Any = None
    errorCode: Any = None
    rowsRead: Any = None
    pointsWritten: Any = None

    @model_validator(mode="before")
    @classmethod
    def _anodot_time_zone(cls, data: Any) -> Any:
        """Anodot's Google Ads streams say ``timezone``: read it when ``timeZone`` is
        not given."""
        if (
            isinstance(data, dict)
            and "timeZone" not in data
            and isinstance(data.get("timezone"), str)
        ):
            data = {**data, "timeZone": data["timezone"]}
        return data

    def definition(self) -> dict[str, Any]:
        """The stream object to store: what was given (and the schedule with its
        defaults), without the server's keys."""
        given = self.model_dump(by_alias=True, exclude_unset=True, exclude=set(IGNORED))
        fmt = given.get("fileFormat")
        if isinstance(fmt, dict):  # Anodot's CSV options: augury's header and delimiter
            given["fileFormat"] = "csv"
            if "header" not in given and isinstance(fmt.get("hasHeader"), bool):
                given["header"] = fmt["hasHeader"]
            if "delimiter" not in given and isinstance(fmt.get("delimiter"), str):
                given["delimiter"] = fmt["delimiter"]
        given.update(
            name=self.name,
            dataSourceId=self.dataSourceId,
            pollingInterval=self.pollingInterval,
            delayMinutes=self.delayMinutes,
            timeZone=self.timeZone,
            paused=self.paused,
        )
        return given

    @property
    def history(self) -> str | None:
        return self.historicalDateRange.constRange if self.historicalDateRange else None


class StreamPreview(StreamBody):
    """A stream object to try before saving it: a name is not needed, nor, while the
    stream is being built, its ``schema`` or its time definition (without them the
    preview is the rows alone, to choose them among their columns)."""

    name: Name = "preview"
    schema_: dict[str, Any] | None = Field(  # type: ignore[assignment]  # optional here
        None,
        alias="schema",
        description="`{columns, sourceColumns}`; left out: the rows only, no metrics.",
    )


def _iso(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("a time is epoch seconds or ISO 8601") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("time out of range") from None


def _moment(value: Any) -> datetime:
    """Epoch seconds (a number or digits) or ISO 8601 (UTC when it has no offset)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            value = _iso(text)
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        if not 0 <= value.timestamp() <= MAX_EPOCH:
            raise ValueError("a time from 1970 to 2242")
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 <= value <= MAX_EPOCH:  # NaN fails this too
            raise ValueError("a time from 1970 to 2242, in epoch seconds")
        return datetime.fromtimestamp(value, UTC)
    raise ValueError("a time is epoch seconds or ISO 8601")


Moment = Annotated[datetime, BeforeValidator(_moment)]


class RewindBody(StrictModel):
    """Collect ``from`` (to ``to``, or now) again."""

    from_: Moment = Field(alias="from", description="Epoch seconds or ISO 8601.")
    to: Moment | None = Field(None, description="Epoch seconds or ISO 8601; now by default.")

    @model_validator(mode="after")
    def _ordered(self) -> RewindBody:
        if self.to is not None and self.to <= self.from_:
            raise ValueError("'from' must be before 'to'")
        return self


class StreamDataset(DatasetMeta):
    """The dataset the stream's latest rows become (a new one, or the next version of
    the dataset of that name)."""


DivertBody = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(max_length=1000)]

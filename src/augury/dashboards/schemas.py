"""Request bodies of dashboards, their share links and their export schedules.

A dashboard is written either in augury's shape (``tiles``: each tile its place and what
it shows) or in Aicser's (``layout``: saved chart ids with a ``position``); both become
``tiles``. Whatever a tile refers to (a chart, a forecast, a metric expression) is
checked by the service, which knows the organization.
"""

from __future__ import annotations

from typing import Literal

from pydantic import EmailStr, Field

from augury.schemas import StrictModel, UtcDatetime

COLUMNS = 12
"""Width of the grid in columns: a tile's ``x + w`` is at most 12."""
MAX_ROWS = 200
MAX_TILES = 60
MAX_MARKDOWN = 20_000

TileType = Literal["chart", "metric", "anomalies", "forecast", "number", "markdown"]
Range = Literal["1h", "6h", "24h", "7d", "30d", "90d"]
Resolution = Literal["auto", "native", "1m", "5m", "1h", "1d"]
Stat = Literal["last", "avg", "sum", "min", "max"]


class Position(StrictModel):
    x: int = Field(0, ge=0, lt=COLUMNS)
    y: int = Field(0, ge=0, lt=MAX_ROWS)
    w: int = Field(6, ge=1, le=COLUMNS)
    h: int = Field(4, ge=1, le=24)


class LayoutItem(StrictModel):
    """Aicser's layout entry: a saved chart at a position."""

    chart_id: int = Field(ge=1, le=2**31 - 1)
    position: Position | None = None


class Tile(StrictModel):
    """One tile. ``x``/``y`` left out: placed in the first free spot that fits."""

    id: str | None = Field(None, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    type: TileType
    x: int | None = Field(None, ge=0, lt=COLUMNS)
    y: int | None = Field(None, ge=0, lt=MAX_ROWS)
    w: int = Field(6, ge=1, le=COLUMNS)
    h: int = Field(4, ge=1, le=24)
    title: str | None = Field(None, max_length=200)
    chart_id: int | None = Field(None, ge=1, le=2**31 - 1, description="chart tiles")
    forecast_id: int | None = Field(None, ge=1, le=2**31 - 1, description="forecast tiles")
    expression: str | None = Field(
        None, max_length=2000, description="metric, number and anomaly tiles: which metrics"
    )
    range: Range | None = Field(None, description="Overrides the dashboard's range.")
    resolution: Resolution = "auto"
    stat: Stat = Field("last", description="number tiles: how the range becomes one number")
    limit: int = Field(10, ge=1, le=50, description="anomaly tiles: how many")
    text: str | None = Field(None, description="markdown tiles")


class DashboardSettings(StrictModel):
    auto_refresh: bool = False
    refresh_interval: int = Field(300, ge=10, le=86400, description="Seconds.")
    theme: Literal["light", "dark"] = "light"
    range: Range = "24h"
    filters: dict[str, str] = Field(
        default_factory=dict,
        description="Dimension filters every metric tile follows: `{host: web-1}`.",
        max_length=20,
    )


class DashboardCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    tiles: list[Tile] | None = Field(None, max_length=MAX_TILES)
    layout: list[LayoutItem] | None = Field(None, max_length=MAX_TILES)
    settings: DashboardSettings = Field(default_factory=DashboardSettings)


class DashboardUpdate(StrictModel):
    """PATCH: what is given changes. ``version``: the version read; a save over a newer
    one is a 409 (someone else saved in between)."""

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    tiles: list[Tile] | None = Field(None, max_length=MAX_TILES)
    layout: list[LayoutItem] | None = Field(None, max_length=MAX_TILES)
    settings: DashboardSettings | None = None
    version: int | None = Field(None, ge=1)


class DashboardReplace(DashboardCreate):
    """PUT: the whole dashboard, as created."""

    version: int | None = Field(None, ge=1)


class ShareCreate(StrictModel):
    label: str = Field("", max_length=200)
    expires_at: UtcDatetime | None = None


class ScheduleCreate(StrictModel):
    cron: str = Field(min_length=9, max_length=100, examples=["0 8 * * 1"])
    timezone: str = Field("UTC", max_length=64)
    recipients: list[EmailStr] = Field(min_length=1, max_length=50)
    format: Literal["pdf", "html"] = "pdf"
    page_size: Literal["a4", "letter", "legal"] = "a4"
    enabled: bool = True


class ScheduleUpdate(StrictModel):
    cron: str | None = Field(None, min_length=9, max_length=100)
    timezone: str | None = Field(None, max_length=64)
    recipients: list[EmailStr] | None = Field(None, min_length=1, max_length=50)
    format: Literal["pdf", "html"] | None = None
    page_size: Literal["a4", "letter", "legal"] | None = None
    enabled: bool | None = None

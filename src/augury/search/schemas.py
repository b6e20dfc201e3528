"""Bodies of the global search."""

from __future__ import annotations

from pydantic import BaseModel, Field

from augury.schemas import UtcDatetime


class SearchResult(BaseModel):
    type: str = Field(
        description="chart, dashboard, dataset, metric, alert, anomaly, forecast or member"
    )
    id: int
    title: str
    description: str = Field(description="The other words it was found by (question, tags ...).")
    link: str = Field(description="Its page in the UI, relative to the server.")
    relevance_score: float = Field(description="Relevance relative to the best hit (1.0).")
    title_html: str = Field(description="The title, HTML-escaped, matches in <mark>.")
    snippet_html: str = Field(description="The matching part of the description, as above.")
    created_at: UtcDatetime
    updated_at: UtcDatetime


class SearchPage(BaseModel):
    query: str
    items: list[SearchResult]
    total: int
    offset: int
    limit: int
    has_more: bool
    counts: dict[str, int] = Field(description="Hits per type (before paging).")

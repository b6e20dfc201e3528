"""Analytics: plain-English questions about datasets, saved charts, key drivers and the
engines that answer them (``client.analytics``)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from augury.client.base import JSON, Resource, _body, _query


class Analytics(Resource):
    """Questions, saved charts and key drivers (``client.analytics``)."""

    # --- questions ----------------------------------------------------------------------

    def ask(
        self,
        question: str,
        data_source: int | str,
        *,
        version: int | None = None,
        chart_type: str = "auto",
        plan: Mapping[str, Any] | None = None,
        title: str | None = None,
        theme: str | None = None,
        interactive: bool | None = None,
        export_formats: Iterable[str] | None = None,
        save: bool = False,
        engine: str | int | None = None,
    ) -> JSON:
        """Ask a question of a dataset (its id or name): the result table (``columns``,
        ``rows``), the ``plan`` it ran and its ``words``, a Vega-Lite ``chart``,
        ``insights`` and a ``confidence``. ``plan`` runs an edited plan (an answer's
        ``plan``, corrected) instead of reading the question again; ``save`` keeps the
        answer as a chart (``chart_id``). ``engine``: ``"offline"`` (the default),
        ``"auto"`` (the organization's default LLM provider, falling back to the
        parser) or a provider's id (its failure raises code ``PROVIDER_ERROR``).

        A question it cannot read raises :class:`~augury.client.ValidationError` with
        code ``QUESTION_NOT_UNDERSTOOD`` and the candidate columns in
        ``details["candidates"]``.
        """
        options = _body(
            title=title,
            theme=theme,
            interactive=interactive,
            export_formats=None if export_formats is None else builtins.list(export_formats),
        )
        body = _body(
            query=question,
            data_source=data_source,
            version=version,
            chart_type=chart_type,
            plan=None if plan is None else dict(plan),
            options=options or None,
            save=save,
            engine=engine,
        )
        return self._client.request("POST", "/analytics/chart", json=body)

    # --- saved charts -------------------------------------------------------------------

    def list_charts(
        self,
        query: str | None = None,
        *,
        chart_type: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        dataset_id: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of saved charts (without their rows); ``query`` searches their
        questions and titles."""
        filters = self._chart_filters(
            query, chart_type, created_after, created_before, dataset_id, sort_by, sort_order
        )
        return self._page("/analytics/charts", offset, limit, **filters)

    def iter_charts(
        self,
        query: str | None = None,
        *,
        chart_type: str | None = None,
        dataset_id: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        page_size: int = 100,
    ) -> Iterator[JSON]:
        """Every saved chart matching the filters."""
        filters = self._chart_filters(
            query, chart_type, None, None, dataset_id, sort_by, sort_order
        )
        return self._iter("/analytics/charts", page_size, **filters)

    @staticmethod
    def _chart_filters(
        query: str | None,
        chart_type: str | None,
        created_after: datetime | None,
        created_before: datetime | None,
        dataset_id: int | None,
        sort_by: str | None,
        sort_order: str | None,
    ) -> JSON:
        return _query(
            {
                "query": query,
                "chart_type": chart_type,
                "created_after": created_after,
                "created_before": created_before,
                "dataset_id": dataset_id,
                "sort_by": sort_by,
                "sort_order": sort_order,
            }
        )

    def get_chart(self, chart_id: int) -> JSON:
        """A saved chart, rerun on its dataset's newest version (``version`` says which;
        ``error`` is set, and the answer is the saved one, when its plan no longer runs)."""
        return self._client.request("GET", f"/analytics/chart/{chart_id}")

    def update_chart(
        self,
        chart_id: int,
        *,
        title: str | None = None,
        chart_type: str | None = None,
        theme: str | None = None,
        interactive: bool | None = None,
        export_formats: Iterable[str] | None = None,
    ) -> JSON:
        """Change a saved chart's title, type or options; what is not given stays."""
        options = _body(
            theme=theme,
            interactive=interactive,
            export_formats=None if export_formats is None else builtins.list(export_formats),
        )
        body = _body(title=title, chart_type=chart_type, options=options or None)
        return self._client.request("PUT", f"/analytics/chart/{chart_id}", json=body)

    def delete_chart(self, chart_id: int) -> None:
        self._client.request("DELETE", f"/analytics/chart/{chart_id}")

    def chart_data(self, chart_id: int, format: str = "csv") -> bytes:
        """A saved chart's rows (live) as a CSV or JSON file's bytes."""
        return self._client.request(
            "GET", f"/analytics/chart/{chart_id}/data", params={"format": format}, raw=True
        )

    # --- key drivers --------------------------------------------------------------------

    def key_drivers(
        self,
        question: str,
        data_source: int | str,
        *,
        target: str | None = None,
        version: int | None = None,
        include_insights: bool = True,
        include_recommendations: bool = True,
        confidence_threshold: float | None = None,
    ) -> JSON:
        """What drives a column: the other columns ranked by measured influence
        (``results.primary_drivers``, with ``correlation``, ``importance``, ``direction``,
        ``impact``, ``confidence``), insights and recommendations phrased from the
        numbers. ``target`` names the column; unset, the question does ("what drives
        sales?")."""
        options = _body(
            include_insights=include_insights,
            include_recommendations=include_recommendations,
            confidence_threshold=confidence_threshold,
        )
        body = _body(
            query=question,
            data_source=data_source,
            target=target,
            version=version,
            analysis_type="key_drivers",
            options=options,
        )
        return self._client.request("POST", "/ai/intelligent-analysis", json=body)

    def get_analysis(self, analysis_id: int) -> JSON:
        """A key-drivers analysis as it was answered."""
        return self._client.request("GET", f"/ai/intelligent-analysis/{analysis_id}")

    def list_analyses(
        self, *, dataset_id: int | None = None, offset: int = 0, limit: int = 50
    ) -> JSON:
        """One page of analyses, newest first, without their results."""
        return self._page(
            "/ai/intelligent-analysis", offset, limit, **_query({"dataset_id": dataset_id})
        )

    # --- engines ------------------------------------------------------------------------

    def models(self) -> builtins.list[JSON]:
        """The engines that answer questions (``model_id``, ``provider``,
        ``capabilities``, ``status``, ``performance_metrics``)."""
        return self._client.request("GET", "/ai/models")["available_models"]

    # --- LLM providers ------------------------------------------------------------------

    def list_providers(self, *, offset: int = 0, limit: int = 50) -> JSON:
        """One page of the organization's LLM providers (``has_key``, never the key)."""
        return self._page("/ai/providers", offset, limit)

    def create_provider(
        self,
        name: str,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        is_default: bool = False,
        timeout_s: float | None = None,
    ) -> JSON:
        """Let an OpenAI-compatible endpoint (``base_url`` where ``/chat/completions``
        is) read the organization's questions (admins); the key is stored encrypted."""
        body = _body(
            name=name,
            base_url=base_url,
            model=model,
            api_key=api_key,
            is_default=is_default,
            timeout_s=timeout_s,
        )
        return self._client.request("POST", "/ai/providers", json=body)

    def get_provider(self, provider_id: int) -> JSON:
        return self._client.request("GET", f"/ai/providers/{provider_id}")

    def update_provider(self, provider_id: int, **changes: Any) -> JSON:
        """Change ``name``, ``base_url``, ``model``, ``api_key`` (None removes it),
        ``is_default`` or ``timeout_s``; what is not given stays."""
        return self._client.request("PUT", f"/ai/providers/{provider_id}", json=changes)

    def delete_provider(self, provider_id: int) -> None:
        self._client.request("DELETE", f"/ai/providers/{provider_id}")

    def test_provider(self, provider_id: int) -> JSON:
        """Ask the provider a fixed question about a tiny built-in table: ``ok``,
        ``latency_ms``, ``error``, the ``plan`` it proposed."""
        return self._client.request("POST", f"/ai/providers/{provider_id}/test")

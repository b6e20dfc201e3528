"""Alerting: alert configurations and what they trigger, channels, events and windows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from augury.client.base import JSON, Resource, _anomaly_filters, _body


class Alerts(Resource):
    """Alert configurations and the alerts they trigger."""

    def create(self, title: str, **config: Any) -> JSON:
        """Create a configuration: ``type`` (anomaly, static, no_data), ``expression``,
        ``group_by``, ``conditions``, ``severity``, ``channel_ids``, ... (see the API)."""
        return self._client.request("POST", "/alerts", json={"title": title, **config})

    def preview(self, title: str = "preview", *, days: float = 7, **config: Any) -> JSON:
        """How often such a configuration would have fired over the last ``days``."""
        body = {"title": title, "days": days, **config}
        return self._client.request("POST", "/alerts/preview", json=body)

    def list(self, *, offset: int = 0, limit: int = 50) -> JSON:
        return self._page("/alerts", offset, limit)

    def get(self, config_id: int) -> JSON:
        return self._client.request("GET", f"/alerts/{config_id}")

    def update(self, config_id: int, title: str, **config: Any) -> JSON:
        """Replace the configuration."""
        body = {"title": title, **config}
        return self._client.request("PUT", f"/alerts/{config_id}", json=body)

    def delete(self, config_id: int) -> None:
        self._client.request("DELETE", f"/alerts/{config_id}")

    def pause(self, config_id: int) -> JSON:
        return self._client.request("POST", f"/alerts/{config_id}/pause")

    def resume(self, config_id: int) -> JSON:
        return self._client.request("POST", f"/alerts/{config_id}/resume")

    def snooze(self, config_id: int, duration_s: float) -> JSON:
        body = {"duration_s": duration_s}
        return self._client.request("POST", f"/alerts/{config_id}/snooze", json=body)

    def triggered(self, *, offset: int = 0, limit: int = 50, **filters: Any) -> JSON:
        """Triggered alerts; ``filters``: ``status``, ``severity``, ``config_id``,
        ``type``, ``start``/``end`` (epoch s), ``q`` (metric expression), ``sort``."""
        return self._page("/alerts/triggered", offset, limit, **_anomaly_filters(filters))

    def triggered_count(self, **filters: Any) -> JSON:
        params = _anomaly_filters(filters)
        return self._client.request("GET", "/alerts/triggered/count", params=params)

    def trigger(self, trigger_id: int) -> JSON:
        return self._client.request("GET", f"/alerts/triggered/{trigger_id}")

    def acknowledge(self, trigger_id: int) -> JSON:
        return self._client.request("POST", f"/alerts/triggered/{trigger_id}/acknowledge")

    def resolve(self, trigger_id: int) -> JSON:
        return self._client.request("POST", f"/alerts/triggered/{trigger_id}/resolve")

    def feedback(
        self,
        type: str,
        *,
        trigger_id: int | None = None,
        anomaly_id: int | None = None,
        comment: str = "",
    ) -> JSON:
        """``good_catch`` or ``not_interesting`` on a triggered alert or an anomaly."""
        body = _body(type=type, trigger_id=trigger_id, anomaly_id=anomaly_id, comment=comment)
        return self._client.request("POST", "/feedback", json=body)


class Channels(Resource):
    """Where alerts go: webhook, slack, email, pagerduty, teams."""

    def create(self, name: str, type: str, config: Mapping[str, Any]) -> JSON:
        body = {"name": name, "type": type, "config": dict(config)}
        return self._client.request("POST", "/channels", json=body)

    def list(self, *, offset: int = 0, limit: int = 50) -> JSON:
        return self._page("/channels", offset, limit)

    def get(self, channel_id: int) -> JSON:
        return self._client.request("GET", f"/channels/{channel_id}")

    def delete(self, channel_id: int) -> None:
        self._client.request("DELETE", f"/channels/{channel_id}")

    def test(self, channel_id: int) -> JSON:
        """Send a sample alert now; the delivery says whether it arrived."""
        return self._client.request("POST", f"/channels/{channel_id}/test")

    def deliveries(self, channel_id: int, *, offset: int = 0, limit: int = 50) -> JSON:
        return self._page(f"/channels/{channel_id}/deliveries", offset, limit)


class Events(Resource):
    """User events (deploys, campaigns, suppress events) and maintenance windows."""

    def create(self, title: str, category: str, source: str, start: float, **fields: Any) -> JSON:
        body = {"title": title, "category": category, "source": source, "start": start, **fields}
        return self._client.request("POST", "/events", json=body)

    def list(self, *, offset: int = 0, limit: int = 50, **filters: Any) -> JSON:
        return self._page("/events", offset, limit, **_anomaly_filters(filters))

    def delete(self, event_id: int) -> None:
        self._client.request("DELETE", f"/events/{event_id}")

    def create_window(self, name: str, **window: Any) -> JSON:
        """A maintenance window: ``start``/``end``, or ``rrule`` (or ``cron``) with
        ``dtstart``, ``duration_s`` and ``timezone``; ``expression`` limits it."""
        return self._client.request("POST", "/maintenance-windows", json={"name": name, **window})

    def windows(self, *, offset: int = 0, limit: int = 50) -> JSON:
        return self._page("/maintenance-windows", offset, limit)

    def delete_window(self, window_id: int) -> None:
        self._client.request("DELETE", f"/maintenance-windows/{window_id}")

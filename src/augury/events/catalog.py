"""The platform events augury records, by type, each with what it means.

A type names its object and what happened to it (``chart.created``). Event webhooks
subscribe to these names (or ``*``); :func:`augury.events.service.emit` refuses any
other, so a typo in a service fails its tests instead of sending an event nobody can
subscribe to.
"""

from __future__ import annotations

EVENTS: dict[str, str] = {
    "chart.created": "A question was saved as a chart.",
    "chart.updated": "A saved chart's title, type or options changed.",
    "chart.deleted": "A saved chart was deleted.",
    "dashboard.created": "A dashboard was created.",
    "dashboard.updated": "A dashboard's name, layout or tiles changed.",
    "dashboard.deleted": "A dashboard was deleted.",
    "dataset.uploaded": "A dataset version was stored (an upload, records, a job's output).",
    "user.created": "An account was made: a sign-up, or an invitation accepted by someone new.",
    "member.invited": "Someone was invited to join the organization.",
    "job.finished": "A job ended: succeeded, failed or aborted.",
    "model.trained": "A predictive or text model finished training and is ready.",
    "anomaly.opened": "Detection opened an anomaly on a metric.",
    "anomaly.matched": "An anomaly was labelled with a saved pattern it matches.",
    "alert.triggered": "An alert configuration fired (a triggered alert opened).",
    "chat.attention": "A visitor wrote one of the use case's attention words in a chat.",
    "chat.handover": "A chat was handed to a person (asked for by a visitor).",
    "data_stream.failed": "A data stream that was collecting failed a poll (once, not per retry).",
    "data_stream.recovered": "A failing data stream collected again.",
}
"""Every event type and its one-line description (``GET /api/v1/webhooks/events``)."""

ALL = "*"
"""A subscription to every event type, present and future."""

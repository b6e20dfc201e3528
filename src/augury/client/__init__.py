"""Python client of the augury REST API.

    >>> from augury.client import Client
    >>> with Client("http://127.0.0.1:8000", api_key="aug_...") as client:  # doctest: +SKIP
    ...     job = client.jobs.create("demo.work", {"steps": 3})
    ...     client.jobs.wait(job["id"], timeout=60)["status"]
    'succeeded'

Answers are the API's JSON as plain dicts and lists. Lists come two ways: ``list()``
returns one page (``{"items", "total", "offset", "limit", "has_more"}``) and ``iter()``
yields every item, fetching pages as it goes. Each resource group (``client.jobs``,
``client.keys`` ...) is a small :class:`Resource` subclass in the module of its
domain (``accounts``, ``jobs``, ``audit``, ``metrics``, ``anomalies``, ``forecasts``,
``alerts``, ``datasets``, ``analytics``, ``text``, ``notifications``, ``models``,
``webhooks``, ``usage``, ``chat``, ``collectors``, ``patterns``): a new group is a
class there plus one line in :meth:`Client.__init__` (``connection``); routes without a
group yet are reachable through :meth:`Client.request`. ``errors`` holds the exceptions,
``base`` what the groups share.

Errors the API answers with ``{"error": {"code", "message", "details"}}`` raise
:class:`AuguryAPIError`, or the subclass for its code::

    AuguryAPIError (any other code or status)
    ├── AuthenticationError (401 AUTHENTICATION_FAILED)
    ├── PermissionDeniedError (403 PERMISSION_DENIED)
    ├── NotFoundError (404 RESOURCE_NOT_FOUND)
    ├── ConflictError (409 CONFLICT)
    ├── PayloadTooLargeError (413 PAYLOAD_TOO_LARGE)
    ├── ValidationError (422 VALIDATION_ERROR)
    ├── RateLimitError (429 RATE_LIMIT_EXCEEDED; ``retry_after`` seconds)
    ├── ServerError (5xx INTERNAL_ERROR)
    ├── TextJobError (a training or batch analysis waited for ended FAILED or ABORTED)
    └── ModelJobError (a model training or batch prediction waited for failed or was aborted)

Network failures raise httpx's own exceptions (``httpx.TransportError``).
"""

from __future__ import annotations

from augury.client.accounts import ApiKeys, Invitations, Members, Organizations
from augury.client.alerts import Alerts, Channels, Events
from augury.client.analytics import Analytics
from augury.client.anomalies import Anomalies
from augury.client.audit import Audit
from augury.client.base import JSON, Resource
from augury.client.chat import Chat, ChatKnowledge, Chats, ChatUseCases, ChatWidget
from augury.client.collectors import Collectors, DataSources, DataStreams, Moment
from augury.client.connection import Client
from augury.client.dashboards import Dashboards
from augury.client.datasets import Datasets
from augury.client.errors import (
    AuguryAPIError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from augury.client.forecasts import Forecasts
from augury.client.jobs import Jobs
from augury.client.metrics import Metrics
from augury.client.models import Applications, ModelJobError, Models, Subscriptions
from augury.client.notifications import Notifications
from augury.client.patterns import Patterns
from augury.client.text import (
    Text,
    TextAnalyses,
    TextClasses,
    TextDocuments,
    TextFiles,
    TextGroups,
    TextJobError,
    TextLabels,
    TextModels,
    TextProjects,
    TextReview,
    TextSessions,
)
from augury.client.usage import Usage
from augury.client.webhooks import Webhooks

__all__ = [
    "Alerts",
    "Analytics",
    "Anomalies",
    "ApiKeys",
    "Applications",
    "Audit",
    "AuguryAPIError",
    "AuthenticationError",
    "Channels",
    "Chat",
    "ChatKnowledge",
    "ChatUseCases",
    "ChatWidget",
    "Chats",
    "Client",
    "Collectors",
    "ConflictError",
    "Dashboards",
    "DataSources",
    "DataStreams",
    "Datasets",
    "Events",
    "Forecasts",
    "Invitations",
    "JSON",
    "Jobs",
    "Members",
    "Metrics",
    "ModelJobError",
    "Models",
    "Moment",
    "NotFoundError",
    "Notifications",
    "Organizations",
    "Patterns",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "Resource",
    "ServerError",
    "Subscriptions",
    "Text",
    "TextAnalyses",
    "TextClasses",
    "TextDocuments",
    "TextFiles",
    "TextGroups",
    "TextJobError",
    "TextLabels",
    "TextModels",
    "TextProjects",
    "TextReview",
    "TextSessions",
    "Usage",
    "ValidationError",
    "Webhooks",
]

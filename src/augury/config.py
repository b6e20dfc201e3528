"""Settings, read from ``AUGURY_*`` environment variables (nested sections use ``__``).

Every field has a description; ``augury serve --help`` and docs/operations.md list them.
A secret that is not given is generated once and persisted in the data folder, so
tokens survive restarts without anyone having to invent a key.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Where links point when neither AUGURY_BASE_URL nor `augury serve`'s address says otherwise.
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class AuthSettings(BaseModel):
    access_token_minutes: int = Field(15, ge=1, description="Lifetime of an access JWT.")
    refresh_token_days: int = Field(30, ge=1, description="Lifetime of a refresh token.")
    reset_token_minutes: int = Field(60, ge=5, description="Lifetime of a password-reset token.")
    invitation_days: int = Field(7, ge=1, description="Lifetime of an invitation.")
    min_password_length: int = Field(8, ge=8, description="Shortest password accepted.")
    allow_signup: bool = Field(
        True, description="Whether anyone may sign up and create a new organization."
    )


class RateLimitSettings(BaseModel):
    enabled: bool = Field(True, description="Enforce per-key rate limits.")
    auth_per_minute: int = Field(
        10, ge=1, description="Login/reset attempts per minute per client."
    )
    default_per_minute: int = Field(
        600, ge=1, description="Requests per minute per key, most routes."
    )
    ingest_per_minute: int = Field(
        6000, ge=1, description="Requests per minute per key, ingestion."
    )
    analytics_per_minute: int = Field(
        100, ge=1, description="Requests per minute per key, /api/v1/analytics (questions, charts)."
    )
    ai_per_minute: int = Field(
        50, ge=1, description="Requests per minute per key, /api/v1/ai (key drivers, workflows)."
    )
    data_per_minute: int = Field(
        20, ge=1, description="Requests per minute per key, Aicser's /api/v1/data."
    )


class SmtpSettings(BaseModel):
    host: str | None = Field(
        None, description="SMTP server; unset = write mails to the outbox folder."
    )
    port: int = Field(587, description="SMTP port.")
    username: str | None = Field(None, description="SMTP user name.")
    password: str | None = Field(None, description="SMTP password.")
    starttls: bool = Field(False, description="Upgrade the connection with STARTTLS.")
    ssl: bool = Field(False, description="Connect with implicit TLS (port 465).")
    sender: str = Field("augury <augury@localhost>", description="From address of mails.")
    timeout_s: float = Field(10.0, description="Connection timeout in seconds.")


class JobSettings(BaseModel):
    enabled: bool = Field(True, description="Run the in-process job runner in `augury serve`.")
    concurrency: int = Field(2, ge=1, description="Jobs run at the same time by one runner.")
    poll_interval_s: float = Field(0.5, gt=0, description="How often the runner looks for work.")
    heartbeat_timeout_s: float = Field(
        120.0, gt=0, description="A running job whose heartbeat is older is marked interrupted."
    )


class MetricsSettings(BaseModel):
    max_lateness_s: float = Field(
        86400.0,
        ge=0,
        description="A sample older than its metric's newest point by more than this is "
        "refused (TOO_LATE); CSV backfill is exempt.",
    )
    retention_days: int = Field(
        90, ge=1, description="Days native points and 1m/5m rollups are kept."
    )
    rollup_retention_days: int = Field(730, ge=1, description="Days 1h and 1d rollups are kept.")
    process_interval_s: float = Field(
        0.5, gt=0, description="How often the stream processor looks for new points."
    )
    processor: Literal["process", "thread"] = Field(
        "process",
        description="Where `augury serve` runs the stream processor (compaction, rollups, "
        "detection): a child process (its own core) or a thread of the API process.",
    )


def _entries(value: object, check) -> object:
    """A list setting given as ``a, b`` or as a JSON list: its non-empty entries, each
    passed to ``check`` (which raises ValueError for a bad one)."""
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else text.split(",")
    if not isinstance(value, list):
        return value
    entries = [str(item).strip() for item in value if str(item).strip()]
    for entry in entries:
        check(entry)
    return entries


def _check_proxy_entry(entry: str) -> None:
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        raise ValueError(f"{entry!r} is not an address or a network (10.0.0.0/8)") from None


def _check_network_entry(entry: str) -> None:
    try:
        ipaddress.ip_network(entry.strip("[]"), strict=False)
    except ValueError:
        if not re.fullmatch(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?", entry):
            raise ValueError(
                f"{entry!r} is neither a network (10.0.0.0/8), an address nor a host name"
            ) from None


class AlertSettings(BaseModel):
    evaluate_interval_s: float = Field(
        1.0, gt=0, description="How often alert configurations are evaluated."
    )
    dispatch_interval_s: float = Field(
        0.5, gt=0, description="How often the dispatcher looks for messages to send."
    )
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one delivery attempt.")
    max_attempts: int = Field(8, ge=1, description="Attempts before a delivery is marked failed.")
    retry_base_s: float = Field(
        5.0, gt=0, description="First retry delay; it doubles per attempt, with jitter."
    )
    retry_cap_s: float = Field(900.0, gt=0, description="Longest delay between two attempts.")
    workers: int = Field(4, ge=1, description="Deliveries sent at the same time.")
    per_channel: int = Field(
        2,
        ge=1,
        description="Deliveries in flight per channel, so one slow channel "
        "cannot hold every worker.",
    )
    allowed_private_networks: Annotated[list[str], NoDecode] = Field(
        [],
        description="Loopback, private, link-local or multicast destinations that alert "
        "channels may send to (on-premise receivers): CIDRs, addresses or host names, "
        "comma-separated or a JSON list. Empty: channels reach public addresses only.",
    )

    @field_validator("allowed_private_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        """``10.0.0.0/8, receiver.internal`` or a JSON list; each entry checked."""
        return _entries(value, _check_network_entry)


class PrometheusSettings(BaseModel):
    enabled: bool = Field(True, description="Serve `GET /metrics` (it covers every organization).")
    token: str | None = Field(
        None,
        description="Bearer token that `GET /metrics` accepts from any client; unset: only "
        "loopback clients may scrape.",
    )
    allow_loopback: bool = Field(
        True,
        description="Let clients on 127.0.0.1/::1 scrape without the token (turn off behind "
        "a reverse proxy on the same host: every request comes from loopback there).",
    )


class S3Settings(BaseModel):
    """Where dataset files live when ``datasets.storage`` is ``s3``."""

    bucket: str = Field("", description="Bucket that holds the dataset files.")
    prefix: str = Field("augury/", description="Key prefix inside the bucket.")
    endpoint_url: str | None = Field(
        None, description="S3-compatible endpoint (MinIO, Ceph ...); unset: AWS."
    )
    region: str = Field("us-east-1", description="Region of the bucket.")
    access_key_id: str | None = Field(None, description="Access key; unset: the environment's.")
    secret_access_key: str | None = Field(None, description="Secret key for `access_key_id`.")
    cache_max_bytes: int = Field(
        10 * 1024**3,
        ge=0,
        description="Size of the local read cache of dataset files (least recently used go).",
    )
    max_attempts: int = Field(
        3, ge=1, le=10, description="Tries per S3 request before it fails (503)."
    )


class DatasetSettings(BaseModel):
    max_upload_bytes: int = Field(
        2 * 1024**3, ge=1024, description="Largest file a dataset upload accepts (413 above)."
    )
    max_columns: int = Field(10_000, ge=1, description="Most columns a dataset may have.")
    max_record_rows: int = Field(
        100_000, ge=1, description="Most rows a dataset made from a JSON body of records may have."
    )
    memory_limit_mb: int = Field(
        512, ge=64, description="Memory DuckDB may use per conversion, profile or query."
    )
    threads: int = Field(2, ge=1, description="Threads DuckDB may use per operation.")
    query_timeout_s: float = Field(30.0, gt=0, description="Longest query or SQL statement.")
    export_timeout_s: float = Field(
        600.0, gt=0, description="Longest download of a dataset or a query's full answer."
    )
    query_max_rows: int = Field(
        100_000, ge=1, description="Most rows a query or SQL statement answers (JSON)."
    )
    storage: Literal["local", "s3"] = Field(
        "local", description="Where dataset files live: the data folder or an S3 bucket."
    )
    s3: S3Settings = S3Settings()


class AnalyticsSettings(BaseModel):
    """Questions asked of datasets (``/api/v1/analytics``) and key drivers (``/api/v1/ai``)."""

    query_timeout_s: float = Field(
        15.0,
        gt=0,
        description="Longest time one question's query (or a saved chart's rerun) may run.",
    )
    max_answer_rows: int = Field(
        5000, ge=1, description="Most rows an answer keeps (its table and its chart's data)."
    )
    context_cache_size: int = Field(
        32,
        ge=1,
        description="Dataset versions whose question context (column words, values, ranges) "
        "is kept in memory per process, least recently used dropped first.",
    )
    drivers_max_rows: int = Field(
        20_000, ge=100, description="Rows sampled from a dataset for a key-drivers analysis."
    )
    allowed_private_networks: Annotated[list[str], NoDecode] = Field(
        [],
        description="Loopback, private or link-local destinations that an organization's "
        "LLM provider may be (a model server on this machine or network: "
        '"localhost" for one on port 11434 here): CIDRs, addresses or host names, '
        "comma-separated or a JSON list. Empty: providers reach public addresses only.",
    )

    @field_validator("allowed_private_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        return _entries(value, _check_network_entry)


def _check_absolute_dir(entry: str) -> None:
    if not Path(entry).expanduser().is_absolute():
        raise ValueError(f"{entry!r} is not an absolute path (/srv/models)")


class TextSettings(BaseModel):
    """Text projects (``/api/v1/text``)."""

    model_dirs: Annotated[list[Path], NoDecode] = Field(
        [],
        description="Directories whose folders are local sentence-embedding models (ONNX or "
        "sentence-transformers layout) a text project may use, chosen by folder name: "
        "absolute paths, comma-separated or a JSON list. Empty: the built-in model only.",
    )

    @field_validator("model_dirs", mode="before")
    @classmethod
    def _split_dirs(cls, value: object) -> object:
        """``/srv/models, ~/models`` or a JSON list; each entry absolute (``~`` expanded)."""
        entries = _entries(value, _check_absolute_dir)
        if isinstance(entries, list):
            return [Path(entry).expanduser() for entry in entries]
        return entries


class PredictiveSettings(BaseModel):
    """Predictive models on tables (``/api/v1/models``)."""

    default_time_budget_s: float = Field(
        120.0,
        ge=10.0,
        le=3600.0,
        description="Seconds a training's model search may take when the request names no "
        "time_budget_s (read when the training runs).",
    )
    max_predict_rows: int = Field(
        10_000,
        ge=1,
        description="Most rows one synchronous prediction may carry (422 TOO_MANY_ROWS "
        "above: predict them as a dataset job).",
    )


class CollectSettings(BaseModel):
    """Collectors (``/api/v1/data-sources``, ``/api/v1/data-streams``): data streams that
    augury polls from databases, files, Prometheus and HTTP endpoints."""

    enabled: bool = Field(
        True,
        description="Run the collector loop (in `augury serve` with jobs, and `augury worker`).",
    )
    tick_s: float = Field(
        5.0, gt=0, description="How often the collector looks for streams that are due."
    )
    workers: int = Field(4, ge=1, le=64, description="Streams polled at the same time.")
    query_timeout_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="Longest one poll may read from a source (a query is cancelled at it).",
    )
    max_rows_per_poll: int = Field(
        2_000_000, ge=1, description="Most rows one poll reads; a backfill reads in chunks."
    )
    backfill_chunk_buckets: int = Field(
        1440,
        ge=1,
        description="Time buckets one backfill poll covers at most (each chunk is "
        "committed with its watermark, so a restart resumes there).",
    )
    retry_cap_s: float = Field(
        3600.0, gt=0, description="Longest wait before a failing stream is tried again."
    )
    allowed_private_networks: Annotated[list[str], NoDecode] = Field(
        [],
        description="Loopback, private or link-local hosts that data sources may connect "
        "to (a database on this machine or network): CIDRs, addresses or host names, "
        "comma-separated or a JSON list. Empty: sources reach public addresses only.",
    )
    allowed_folders: Annotated[list[Path], NoDecode] = Field(
        [],
        description="Folders (absolute paths) whose files and SQLite databases a data "
        "source may read, besides `<data_dir>/collect`: comma-separated or a JSON list.",
    )

    @field_validator("allowed_private_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        return _entries(value, _check_network_entry)

    @field_validator("allowed_folders", mode="before")
    @classmethod
    def _split_folders(cls, value: object) -> object:
        return _entries(value, _check_absolute_dir)


class QuotaSettings(BaseModel):
    """Per-organization limits; 0 turns a limit off."""

    active_jobs: int = Field(
        100, ge=0, description="Pending and running jobs per organization (429 above)."
    )
    job_memory_mb: int = Field(
        1024, ge=0, description="Largest `megabytes` a demo.work job may hold or write (422)."
    )
    job_seconds: float = Field(
        3600.0,
        ge=0,
        description="Longest demo.work job: steps x step_seconds of sleep or CPU (422).",
    )
    metrics: int = Field(
        100_000,
        ge=0,
        description="Metrics per organization; samples that would create more are "
        "refused (QUOTA_EXCEEDED), existing metrics keep accepting.",
    )
    points_per_minute: int = Field(
        6_000_000,
        ge=0,
        description="Points accepted per organization per minute (429 + Retry-After above).",
    )
    stored_points: int = Field(
        500_000_000,
        ge=0,
        description="Points accepted per organization within the retention period (403 above).",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AUGURY_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(
        Path("data"), description="Folder for the SQLite file, outbox and files."
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file augury.db in the data folder."
    )
    secret_key: str | None = Field(
        None,
        description="Signing key for tokens; generated and stored in the data folder if unset.",
    )
    base_url: str = Field(
        DEFAULT_BASE_URL,
        description="Public URL, used in links (mails, webhooks); unset: the address "
        "`augury serve` listens on.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        [],
        description="Reverse proxies (addresses or CIDRs, comma-separated or a JSON list) "
        "whose X-Forwarded-For is believed; empty: the peer address is the client.",
    )
    max_body_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 above)."
    )
    demo: bool = Field(False, description="Create a demo organization and user at start.")
    auth: AuthSettings = AuthSettings()
    ratelimit: RateLimitSettings = RateLimitSettings()
    smtp: SmtpSettings = SmtpSettings()
    alerts: AlertSettings = AlertSettings()
    jobs: JobSettings = JobSettings()
    metrics: MetricsSettings = MetricsSettings()
    prometheus: PrometheusSettings = PrometheusSettings()
    quotas: QuotaSettings = QuotaSettings()
    datasets: DatasetSettings = DatasetSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()
    text: TextSettings = TextSettings()
    predictive: PredictiveSettings = PredictiveSettings()
    collect: CollectSettings = CollectSettings()
    cors_origins: list[str] = Field(
        [],
        description="Origins (scheme://host[:port]) whose pages may call the API from a "
        'browser, as a JSON list: ["https://dash.example.com"]. Empty: CORS closed.',
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        return _entries(value, _check_proxy_entry)

    @cached_property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies)

    def resolve_base_url(self, host: str, port: int) -> str | None:
        """Point links at the address `augury serve` listens on unless AUGURY_BASE_URL was
        given; returns a warning for the log when the links may not lead to this server."""
        shown = {"0.0.0.0": "127.0.0.1", "::": "localhost", "": "127.0.0.1"}.get(host, host)
        netloc = f"[{shown}]:{port}" if ":" in shown else f"{shown}:{port}"
        served = f"http://{netloc}"
        if "base_url" not in self.model_fields_set:
            self.base_url = served
            if shown != host:
                return (
                    f"listening on all interfaces: links in mails and webhooks use {served}; "
                    "set AUGURY_BASE_URL to the address people and receivers reach"
                )
            return None
        given = urlsplit(self.base_url)
        if (given.scheme, given.netloc) == ("http", netloc):
            return None
        return (
            f"AUGURY_BASE_URL is {self.base_url} but augury listens on {served}: links in "
            "mails and webhooks use AUGURY_BASE_URL (right only if it leads here, e.g. "
            "through a proxy)"
        )

    @cached_property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'augury.db').resolve()}"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    def upload_path(self, org_id: int, upload_id: str) -> Path:
        """Where an uploaded body waits for the job that reads it."""
        return self.data_dir / "uploads" / str(org_id) / f"{upload_id}.csv"

    @cached_property
    def signing_key(self) -> str:
        """The configured secret, or one generated once and kept in ``data_dir/secret_key``."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # O_EXCL: two processes starting together must agree on one key.
        try:
            with open(path, "x") as fh:
                fh.write(key)
            path.chmod(0o600)
        except FileExistsError:
            return path.read_text().strip()
        return key

    def derived_key(self, purpose: bytes) -> bytes:
        """32 bytes for one ``purpose`` (HKDF-SHA256 of :attr:`signing_key`), so each use
        of the server's secret has a key of its own and one leaking tells nothing of the
        others or of the secret."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose)
        return hkdf.derive(self.signing_key.encode())


def get_settings() -> Settings:
    return Settings()

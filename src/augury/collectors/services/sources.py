"""Data sources: create, test, find, change and delete them, divert their streams.

A source's ``config`` is checked and normalised by the connector of its type
(:func:`augury.collectors.connectors.check_config`); its ``secret`` is stored encrypted
(:mod:`.access`) and answered only as ``***``. Credentials never reach the audit log
(a changed one is recorded as ``***``), a log line or an error message: connectors
scrub their messages with the source's :class:`~augury.collectors.connectors.Limits`,
and this module scrubs them again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.collectors import connectors
from augury.collectors.connectors import ConfigInvalid, SourceError
from augury.collectors.models import DataSource, DataStream
from augury.collectors.schemas import SourceCreate, SourceUpdate
from augury.collectors.services import access
from augury.config import Settings
from augury.errors import Conflict, NotFound, ValidationFailed
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate
from augury.store.text import contains

log = logging.getLogger("augury.collectors")

FIND_LIMIT = 1000
"""Most objects Anodot's ``find`` answers (a plain list, no pages)."""


# --------------------------------------------------------------------------- helpers


def epoch(value) -> int | None:
    """A datetime as whole epoch seconds (Anodot's times)."""
    return None if value is None else int(value.timestamp())


def config_invalid(exc: ConfigInvalid, prefix: str = "") -> ValidationFailed:
    """A connector's refusal as the API's 422 naming the field."""
    field = f"{prefix}{exc.field}" if prefix and not exc.field.startswith(prefix) else exc.field
    return ValidationFailed(exc.message, details={"field": field})


def unavailable(source_type: str) -> ValidationFailed:
    return ValidationFailed(
        f"{source_type} sources cannot be read by this server (its connector is not installed).",
        details={"field": "type", "reason": "type_unavailable"},
    )


def _checked(
    source_type: str, config: Mapping[str, Any], secret: Mapping[str, Any]
) -> dict[str, Any]:
    """The config as the connector normalises it, with no credential in it: a secret
    field given in ``config`` would be stored in clear and answered, so it is refused."""
    try:
        secret_fields = connectors.secret_fields(source_type)
        for key in config:
            if key in secret_fields:
                raise ConfigInvalid(
                    f"config.{key}", f"'{key}' is a credential: give it in 'secret'."
                )
        for key in secret:
            if key not in secret_fields:
                known = ", ".join(secret_fields) or "none"
                raise ConfigInvalid(
                    f"secret.{key}",
                    f"'{key}' is not a credential of a {source_type} source (they are: {known}).",
                )
        checked = connectors.check_config(source_type, config, secret)
    except ConfigInvalid as exc:
        raise config_invalid(exc) from None
    except ImportError:  # the connector's module (or its driver) is not installed
        raise unavailable(source_type) from None
    return {k: v for k, v in checked.items() if k not in secret_fields}


def _name_free(session: Session, org_id: int, name: str, source_id: int | None = None) -> None:
    stmt = select(DataSource.id).where(DataSource.org_id == org_id, DataSource.name == name)
    if source_id is not None:
        stmt = stmt.where(DataSource.id != source_id)
    taken = session.scalar(stmt.limit(1))
    if taken is not None:
        raise Conflict(
            f"A data source named '{name}' exists.",
            details={"reason": "name_taken", "field": "name", "id": taken},
        )


def _mask(values: dict) -> dict:
    """An audit snapshot with each credential value as ``***`` (``None``: removed)."""
    secret = values.get("secret")
    if isinstance(secret, dict):
        values = {
            **values,
            "secret": {k: None if v is None else access.MASK for k, v in secret.items()},
        }
    return values


def _snapshot(settings: Settings, source: DataSource) -> dict:
    """What the audit log compares; the credentials are masked after the comparison."""
    try:
        secret = access.decrypt_secret(settings, source.secret)
    except SourceError:
        secret = {"(unreadable)": source.secret}
    return {
        "name": source.name,
        "type": source.type,
        "config": dict(source.config or {}),
        "secret": secret,
    }


def _record(
    session: Session,
    principal: Principal,
    action: str,
    source: DataSource,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    audit.record_change(
        session=session,
        principal=principal,
        action=f"collectors.source.{action}",
        target_type="collect_source",
        target_id=source.id,
        before=before,
        after=after,
        mask=_mask,
    )


# --------------------------------------------------------------------------- answers


def fields(settings: Settings, source: DataSource, streams: list[DataStream] | None = None) -> dict:
    """The source object (``streams`` only when given: ``GET /data-sources/{id}``)."""
    try:
        secret: dict[str, Any] = access.masked(settings, source)
        unreadable = False
    except SourceError:
        secret, unreadable = {}, True
    out: dict[str, Any] = {
        "id": source.id,
        "name": source.name,
        "type": source.type,
        "config": dict(source.config or {}),
        "secret": secret,
        "createTime": epoch(source.created_at),
        "modifyTime": epoch(source.updated_at),
    }
    if unreadable:
        out["secretUnreadable"] = True
    if streams is not None:
        out["streams"] = [{"id": s.id, "name": s.name, "type": s.type} for s in streams]
    return out


# --------------------------------------------------------------------------- reads


def get(*, session: Session, org_id: int, source_id: int) -> DataSource:
    """The organization's source ``source_id``; another organization's is a 404."""
    return get_owned(session, DataSource, org_id, source_id, "Data source")


def streams_of(session: Session, source: DataSource) -> list[DataStream]:
    return list(
        session.scalars(
            select(DataStream).where(DataStream.source_id == source.id).order_by(DataStream.id)
        )
    )


def list_page(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    type: str | None = None,
    q: str | None = None,
) -> tuple[list[DataSource], int]:
    """The organization's sources by name; ``type`` and text ``q`` in the name."""
    stmt = select(DataSource).where(DataSource.org_id == org_id)
    if type:
        stmt = stmt.where(DataSource.type == type)
    if q:
        stmt = stmt.where(contains(DataSource.name, q))
    return paginate(session, stmt.order_by(DataSource.name, DataSource.id), page)


def find(*, session: Session, org_id: int, search_query: str) -> list[DataSource]:
    """Anodot's find: sources whose name holds ``search_query`` (any case)."""
    stmt = select(DataSource).where(DataSource.org_id == org_id)
    if search_query:
        stmt = stmt.where(contains(DataSource.name, search_query))
    return list(session.scalars(stmt.order_by(DataSource.name, DataSource.id).limit(FIND_LIMIT)))


# --------------------------------------------------------------------------- writes


def create(
    *, session: Session, principal: Principal, settings: Settings, body: SourceCreate
) -> DataSource:
    """A new source: its config checked for its type, its credentials encrypted."""
    config = _checked(body.type, body.config, body.secret)
    _name_free(session, principal.org_id, body.name)
    now = clock.now()
    source = DataSource(
        org_id=principal.org_id,
        name=body.name,
        type=body.type,
        config=config,
        secret=access.encrypt_secret(settings, body.secret),
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(source)
    session.flush()
    _record(session, principal, "create", source, after=_snapshot(settings, source))
    return source


def update(
    *,
    session: Session,
    principal: Principal,
    settings: Settings,
    source: DataSource,
    body: SourceUpdate,
) -> DataSource:
    """Change the name, replace the config, merge the credentials (``null`` removes
    one); the result is checked as a new source's is."""
    before = _snapshot(settings, source)
    try:
        secret = access.decrypt_secret(settings, source.secret)
    except SourceError as exc:  # the server's secret changed: the credentials are lost
        if body.secret is None:
            raise ValidationFailed(exc.message, details={"field": "secret"}) from None
        secret = {}
    if body.secret is not None:
        for key, value in body.secret.items():
            if value is None:
                secret.pop(key, None)
            else:
                secret[key] = value
    config = body.config if body.config is not None else dict(source.config or {})
    config = _checked(source.type, config, secret)
    if body.name is not None and body.name != source.name:
        _name_free(session, source.org_id, body.name, source.id)
        source.name = body.name
    source.config = config
    source.secret = access.encrypt_secret(settings, secret)
    source.updated_at = clock.now()
    session.flush()
    _record(session, principal, "update", source, before, _snapshot(settings, source))
    return source


def delete(
    *, session: Session, principal: Principal, settings: Settings, source: DataSource
) -> None:
    """Delete a source no stream reads (409 ``source_in_use`` otherwise)."""
    using = list(
        session.scalars(
            select(DataStream.id).where(DataStream.source_id == source.id).order_by(DataStream.id)
        )
    )
    if using:
        raise Conflict(
            f"{len(using)} data stream(s) read this source: delete them or divert them to "
            "another source first.",
            details={"reason": "source_in_use", "streams": using[:100]},
        )
    _record(session, principal, "delete", source, before=_snapshot(settings, source))
    session.delete(source)
    session.flush()


def divert(
    *,
    session: Session,
    principal: Principal,
    from_source: DataSource,
    to_source: DataSource,
    stream_ids: list[int],
) -> list[int]:
    """Move streams of ``from_source`` to ``to_source``, a source of the same type
    (a replaced connection): 422 ``type_mismatch`` otherwise. Every stream must be one
    of ``from_source``'s (404 naming those that are not)."""
    if from_source.type != to_source.type:
        raise ValidationFailed(
            f"Streams of a {from_source.type} source can only move to another {from_source.type} "
            f"source; '{to_source.name}' is {to_source.type}.",
            details={"reason": "type_mismatch", "field": "toDataSrc"},
        )
    wanted = list(dict.fromkeys(stream_ids))
    if not wanted:
        return []
    found = {
        s.id: s
        for s in session.scalars(
            select(DataStream).where(
                DataStream.org_id == from_source.org_id,
                DataStream.source_id == from_source.id,
                DataStream.id.in_(wanted),
            )
        )
    }
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(
            f"No data stream {missing[0]} reads the source {from_source.id}.",
            details={"streams": missing[:100], "fromDataSrc": from_source.id},
        )
    if from_source.id == to_source.id:
        return wanted
    now = clock.now()
    for stream_id in wanted:
        stream = found[stream_id]
        stream.source_id = to_source.id
        stream.definition = {**(stream.definition or {}), "dataSourceId": to_source.id}
        stream.updated_at = now
        audit.record_change(
            session=session,
            principal=principal,
            action="collectors.stream.divert",
            target_type="collect_stream",
            target_id=stream.id,
            before={"source_id": from_source.id},
            after={"source_id": to_source.id},
        )
    session.flush()
    return wanted


# --------------------------------------------------------------------------- tests


def _probe(
    source_type: str, config: Mapping[str, Any], secret: Mapping[str, Any], settings: Settings
) -> dict:
    limits = access.limits(settings, secret)
    try:
        connector = connectors.connect(source_type, config, secret, limits)
    except SourceError as exc:
        return {"ok": False, "code": exc.code, "message": limits.scrub(exc.message)}
    try:
        probe = connector.test()
    except SourceError as exc:
        return {"ok": False, "code": exc.code, "message": limits.scrub(exc.message)}
    except Exception as exc:  # noqa: BLE001 - a driver's own error: an answer, never a 500
        log.warning("testing a %s source failed: %s", source_type, type(exc).__name__)
        return {
            "ok": False,
            "code": "source_error",
            "message": limits.scrub(f"The source could not be read ({type(exc).__name__}: {exc})."),
        }
    finally:
        try:
            connector.close()
        except Exception:  # noqa: BLE001 - closing must not hide the answer
            log.warning("closing a %s connector failed", source_type)
    return {"ok": True, "detail": limits.scrub(probe.detail), "objects": list(probe.objects)}


def try_connection(*, settings: Settings, body: SourceCreate) -> dict:
    """Test a source before saving it: ``{"ok": true, "detail", "objects"}``, or
    ``{"ok": false, "code", "message"}`` (a config its type refuses too, code
    ``config_invalid`` with its ``field``)."""
    try:
        config = _checked(body.type, body.config, body.secret)
    except ValidationFailed as exc:
        return {
            "ok": False,
            "code": "config_invalid",
            "message": access.limits(settings, body.secret).scrub(exc.message),
            "field": exc.details.get("field"),
        }
    return _probe(body.type, config, body.secret, settings)


def try_saved(*, settings: Settings, source: DataSource) -> dict:
    """Test a saved source (its stored credentials)."""
    try:
        secret = access.decrypt_secret(settings, source.secret)
    except SourceError as exc:
        return {"ok": False, "code": exc.code, "message": exc.message}
    return _probe(source.type, dict(source.config or {}), secret, settings)


def objects(*, settings: Settings, source: DataSource) -> dict:
    """What a stream of a saved source could read (tables, files, metric names), for
    anyone of its organization: members build streams but may not test a source (a
    test is an admin's, as are the credentials), and the builder needs the list. The
    test's answer: ``{"ok": true, "objects", "detail"}`` or ``{"ok": false, "code",
    "message"}``, scrubbed of the credentials as the test is; the config and the
    credentials themselves are never in it."""
    found = try_saved(settings=settings, source=source)
    if not found["ok"]:
        return {"ok": False, "code": found["code"], "message": found["message"]}
    return {"ok": True, "objects": found["objects"], "detail": found["detail"]}

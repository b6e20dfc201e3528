"""Schema migrations through Alembic, for `augury db upgrade`, server start and tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

_INI = Path(__file__).with_name("alembic.ini")


HAND_MADE_PREFIXES = (
    "text_document_fts",
    "ix_text_document_fts",
    "search_entry_fts",
    "ix_search_entry_fts",
)
"""Database objects that migrations create by hand, with no model: SQLite's FTS5 tables
(and their shadow tables) and PostgreSQL's full-text index. Autogenerate leaves them be."""


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: everything but :data:`HAND_MADE_PREFIXES`."""
    return not (name or "").startswith(HAND_MADE_PREFIXES)


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(_INI))
    cfg.set_main_option("script_location", str(_INI.parent / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the newest)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)

"""The root `augury` Typer app and the helpers every command group shares.

The command modules next to this one add their commands to `app` (or to their own
group, added here by `augury.cli`); nothing here imports the server, so `augury --help`
and the file commands start without loading the database layer.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from augury.config import Settings
    from augury.store.db import Database

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="augury: self-hosted AI analytics."
)


def open_db(settings: Settings) -> Database:
    """The database of these settings, migrated to the newest schema first."""
    from augury.store import migrate
    from augury.store.db import Database

    db = Database(settings.db_url)
    migrate.upgrade(db.engine)
    return db


def echo_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))

"""`augury db`: the database schema."""

from __future__ import annotations

from typing import Annotated

import typer

from augury.config import Settings

db_app = typer.Typer(no_args_is_help=True, help="Database schema.")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the database schema (to the newest revision by default)."""
    from augury.store import migrate
    from augury.store.db import Database

    settings = Settings()
    db = Database(settings.db_url)
    migrate.upgrade(db.engine, revision)
    typer.echo(f"database at {revision}: {settings.db_url.split('@')[-1]}")


@db_app.command("reindex-search")
def db_reindex_search() -> None:
    """Build the global search index again from what the database holds."""
    from augury.cli.app import open_db
    from augury.search import service as search

    db = open_db(Settings())
    with db.session() as session:
        count = search.reindex(session)
    typer.echo(f"{count} objects indexed")

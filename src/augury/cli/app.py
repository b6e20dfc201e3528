"""The root `augury` Typer app and the helpers every command group shares.

The command modules next to this one add their commands to `app` (or to their own
group, added here by `augury.cli`); nothing here imports the server, so `augury --help`
and the file commands start without loading the database layer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from augury.config import Settings
    from augury.store.db import Database

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="augury: self-hosted AI analytics."
)


# --- options the groups that talk to a server share --------------------------------------

AsJson = Annotated[bool, typer.Option("--json", help="The API's answer as JSON.")]
Limit = Annotated[int, typer.Option(min=1, max=1000, help="How many to show.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")]
Wait = Annotated[bool, typer.Option("--wait", help="Wait until it is done, showing progress.")]
Timeout = Annotated[float, typer.Option(help="Seconds to wait for --wait.")]
SignedZip = Annotated[
    Path,
    typer.Argument(
        metavar="FILE",
        help="A zip that `download` wrote.",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]
"""An upload's file: what a `download` command of the same group wrote."""


def out_option(default: str) -> Any:
    """``--out``/``-o`` of a download, whose file is named ``default`` when none is
    given: ``out: Annotated[Path | None, out_option("model-ID.zip")] = None``."""
    return typer.Option(
        "--out",
        "-o",
        metavar="FILE",
        help=f"File or folder ('-': standard output; default: here, as {default}).",
        show_default=False,
    )


def progress_printer(
    describe: Callable[[dict[str, Any]], tuple[str, str, float | None]],
) -> Callable[[dict[str, Any]], None]:
    """What a ``wait`` calls at each poll: ``NAME: status N%`` on standard error when the
    status or the whole percent changes, so `--json` output stays one document.
    ``describe`` reads the polled object's name, status and percent."""
    shown: tuple[str, int] | None = None

    def show(current: dict[str, Any]) -> None:
        nonlocal shown
        name, status, percent = describe(current)
        now = (str(status), int(percent or 0))
        if now != shown:
            shown = now
            typer.echo(f"{name}: {now[0].lower()} {now[1]}%", err=True)

    return show


def open_db(settings: Settings) -> Database:
    """The database of these settings, migrated to the newest schema first; what the
    command writes keeps the search index current, as the server's writes do."""
    from augury.runtime import wiring
    from augury.store import migrate
    from augury.store.db import Database

    wiring.install_search()
    db = Database(settings.db_url)
    migrate.upgrade(db.engine)
    return db


def echo_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))

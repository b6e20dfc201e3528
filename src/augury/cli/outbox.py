"""`augury outbox`: the mails written to the outbox folder when no SMTP server is set."""

from __future__ import annotations

from typing import Annotated

import typer

from augury.config import Settings

outbox_app = typer.Typer(invoke_without_command=True, help="Mails written to the outbox folder.")


@outbox_app.callback()
def outbox(ctx: typer.Context) -> None:
    """List mails in the outbox (used when no SMTP server is configured)."""
    if ctx.invoked_subcommand is None:
        outbox_list()


@outbox_app.command("list")
def outbox_list() -> None:
    """List outbox mails, oldest first."""
    from augury.mail import read_outbox

    mails = read_outbox(Settings().outbox_dir)
    if not mails:
        typer.echo("outbox is empty")
    for m in mails:
        typer.echo(f"{m['id']}\t{m['date']}\t{m['to']}\t{m['subject']}")


@outbox_app.command("show")
def outbox_show(
    mail_id: Annotated[str, typer.Argument(help="Id from `augury outbox` ('last' works).")],
) -> None:
    """Print one outbox mail's text."""
    from augury.mail import read_outbox

    mails = read_outbox(Settings().outbox_dir)
    found = mails[-1:] if mail_id == "last" else [m for m in mails if m["id"] == mail_id]
    if not found:
        typer.echo("no such mail", err=True)
        raise typer.Exit(2)
    m = found[0]
    typer.echo(f"To: {m['to']}\nSubject: {m['subject']}\nDate: {m['date']}\n\n{m['text']}")

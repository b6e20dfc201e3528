"""`augury keys`: API keys made, listed and revoked by the operator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy import select

from augury.cli.app import open_db
from augury.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from augury.accounts.principal import Principal

keys_app = typer.Typer(no_args_is_help=True, help="API keys.")


def _principal_for(session: Session, email: str, org_id: int | None) -> Principal:
    """The user `email` acting in `org_id` (or in their first active organization)."""
    from augury.accounts import users
    from augury.accounts.models import Membership, Role
    from augury.accounts.principal import Principal

    user = users.get_user_by_email(session=session, email=email)
    if user is None:
        raise typer.BadParameter(f"no user {email}")
    stmt = select(Membership).where(Membership.user_id == user.id, Membership.disabled_at.is_(None))
    if org_id is not None:
        stmt = stmt.where(Membership.org_id == org_id)
    membership = session.scalars(stmt.order_by(Membership.id)).first()
    if membership is None:
        raise typer.BadParameter(f"{email} is not an active member of that organization")
    return Principal(
        org_id=membership.org_id, user_id=user.id, role=Role(membership.role), email=user.email
    )


@keys_app.command("create")
def keys_create(
    email: Annotated[str, typer.Option(help="The user the key is created for.")],
    name: Annotated[str, typer.Option(help="A name to recognise the key.")] = "cli",
    scope: Annotated[
        list[str] | None, typer.Option(help="ingest, read, write, admin (repeat).")
    ] = None,
    org_id: Annotated[
        int | None, typer.Option(help="Organization (default: the user's first).")
    ] = None,
) -> None:
    """Create an API key and print its secret (shown only once)."""
    from augury.accounts import keys
    from augury.errors import AuguryError

    settings = Settings()
    db = open_db(settings)
    try:
        with db.session() as session:
            principal = _principal_for(session, email, org_id)
            key, secret = keys.create_api_key(
                session=session, principal=principal, name=name, scopes=scope or ["read"]
            )
            typer.echo(f"key {key.id} ({', '.join(key.scopes)}) in organization {key.org_id}:")
            typer.echo(secret)
    except AuguryError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc


@keys_app.command("list")
def keys_list(
    org_id: Annotated[int | None, typer.Option(help="Only this organization.")] = None,
) -> None:
    """List API keys (never their secrets)."""
    from augury.accounts.models import ApiKey

    db = open_db(Settings())
    with db.session() as session:
        stmt = select(ApiKey).order_by(ApiKey.id)
        if org_id is not None:
            stmt = stmt.where(ApiKey.org_id == org_id)
        for k in session.scalars(stmt):
            state = "revoked" if k.revoked_at else "active"
            typer.echo(
                f"{k.id}\torg {k.org_id}\taug_{k.prefix}_…\t{','.join(k.scopes)}\t{state}\t"
                f"last used {k.last_used_at or 'never'}\t{k.name}"
            )


@keys_app.command("revoke")
def keys_revoke(key_id: int) -> None:
    """Revoke an API key."""
    from augury import clock
    from augury.accounts.models import ApiKey

    db = open_db(Settings())
    with db.session() as session:
        key = session.get(ApiKey, key_id)
        if key is None:
            typer.echo("no such key", err=True)
            raise typer.Exit(2)
        key.revoked_at = key.revoked_at or clock.now()
    typer.echo(f"key {key_id} revoked")

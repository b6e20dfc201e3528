"""`augury user`: accounts created by the operator, before anyone can sign in."""

from __future__ import annotations

from typing import Annotated

import typer

from augury.cli.app import open_db
from augury.config import Settings

user_app = typer.Typer(no_args_is_help=True, help="Users.")


@user_app.command("create")
def user_create(
    email: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    org: Annotated[str | None, typer.Option(help="Name of a new organization they own.")] = None,
    org_id: Annotated[int | None, typer.Option(help="Add to this existing organization.")] = None,
    role: Annotated[
        str, typer.Option(help="Role in --org-id: owner, admin, member, viewer.")
    ] = "member",
) -> None:
    """Create a user, owner of a new organization or member of an existing one."""
    from augury.accounts import organizations, users
    from augury.accounts.models import Membership, Role
    from augury.errors import AuguryError

    settings = Settings()
    db = open_db(settings)
    try:
        with db.session() as session:
            user = users.create_user(
                session=session, settings=settings, email=email, password=password, name=name
            )
            if org_id is not None:
                organizations.get_organization(session=session, org_id=org_id)
                session.add(Membership(org_id=org_id, user_id=user.id, role=Role(role)))
                user.default_org_id = org_id
                target = org_id
            else:
                target = organizations.create_organization(
                    session=session, owner=user, name=org or f"{name or email}'s organization"
                ).id
                role = "owner"
            users.user_created(session, target, user, role=role, via="cli")
            typer.echo(f"user {user.id} {user.email} in organization {target}")
    except (AuguryError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc

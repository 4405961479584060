"""The `api-token` commands: personal API tokens from the command line."""

import click
from flask.cli import with_appcontext

from booking.services.accounts import api_tokens
from booking.services.accounts import users as accounts
from booking.services.errors import DomainError


@click.group("api-token")
def api_token_group():
    """Personal API tokens for the staff JSON API."""


@api_token_group.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for (shown in the token list).")
@with_appcontext
def create_command(email, name):
    """Create an API token for the account with EMAIL and print it, once."""
    user = accounts.find_user_by_email(email)
    if user is None or user.deleted_at is not None:
        raise click.ClickException(f"No account with the email {email!r}.")
    try:
        token, raw = api_tokens.create_token(user.id, name)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    if not (user.is_staff or user.is_admin):
        click.echo(
            f"Note: {user.email} is not staff of any centre, so the API will refuse "
            "its changes until they are.",
            err=True,
        )
    click.echo(
        f"Created API token {token.name!r} (id {token.id}) for {user.email}. "
        "It is shown only this once:",
        err=True,
    )
    click.echo(raw)

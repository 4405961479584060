"""The flask commands (`flask --app wsgi ...`)."""

import click
from flask import current_app
from flask.cli import with_appcontext

from booking.cli.errors import one_line_errors
from booking.services.accounts import users as accounts
from booking.services.errors import DomainError


def init_app(app) -> None:
    """Register every command."""
    app.cli.add_command(create_user_command)
    from booking.cli.schedule import import_schedule_command
    from booking.demo.seed import seed_demo_command

    app.cli.add_command(seed_demo_command)
    app.cli.add_command(import_schedule_command)
    from booking.cli import mail as mail_commands

    mail_commands.init_app(app)
    from booking.cli.api_tokens import api_token_group

    app.cli.add_command(api_token_group)
    from booking.cli.privacy import purge_expired_command

    app.cli.add_command(purge_expired_command)
    from booking.cli.decisions import run_decisions_command

    app.cli.add_command(run_decisions_command)
    from booking.cli.payments import payments_group

    app.cli.add_command(payments_group)
    from booking.cli.backup import backup_group

    app.cli.add_command(backup_group)
    for command in app.cli.commands.values():  # Flask-Migrate's `db` too
        one_line_errors(command)


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="The person's name.")
@click.option(
    "--role",
    type=click.Choice(accounts.ROLES),
    default="parent",
    show_default=True,
    help="What the account may do.",
)
@click.option("--centre", "centre_slug", help="The centre's slug (staff and instructors).")
@click.option("--password", help="Password; asked for when not given.")
@with_appcontext
def create_user_command(email, name, role, centre_slug, password):
    """Create an account with a role."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise click.ClickException("The password must have at least 10 characters.")
    try:
        user = accounts.create_user(email, name, password, role=role, centre_slug=centre_slug)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    current_app.logger.info("created user %s", user.id)
    click.echo(f"Created {role} {user.email} (id {user.id}).")

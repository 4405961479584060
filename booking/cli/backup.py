"""`flask backup create DIR` and `flask backup restore FILE [--force]`."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from booking.services import backup
from booking.services.errors import DomainError


@click.group("backup")
def backup_group():
    """Back up the database, and restore a backup into an empty database."""


@backup_group.command("create")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def create_command(directory):
    """Back up the whole database into DIRECTORY (made if missing) as
    booking-YYYYmmdd-HHMMSS.sqlite3 (SQLite) or .dump (PostgreSQL, pg_dump's custom
    format), stamped in UTC. Safe while the site runs."""
    try:
        path = backup.create_backup(directory)
    except (DomainError, backup.BackupFailed) as exc:
        raise click.ClickException(str(exc)) from exc
    size = path.stat().st_size
    click.echo(f"Backed up {backup.database_label()} to {path} ({size:,} bytes).")


@backup_group.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Restore even though the database already has the product's tables "
    "(they are backed up first, then replaced by the backup's).",
)
@click.option(
    "--safety-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --force: the folder that what the database held is backed up into, as "
    "booking-before-restore-*, before it is replaced (default: FILE's folder).",
)
@with_appcontext
def restore_command(file, force, safety_dir):
    """Restore FILE, made by `backup create`, into the configured database, which must
    be empty (a new database) unless --force (then what it held is backed up first)."""
    if safety_dir is not None and not force:
        raise click.UsageError("--safety-dir goes with --force (nothing is replaced without it).")
    try:
        summary = backup.restore_backup(file, force=force, safety_dir=safety_dir)
    except (DomainError, backup.BackupFailed) as exc:
        raise click.ClickException(str(exc)) from exc
    if summary.safety_copy is not None:
        click.echo(f"Backed up what {backup.database_label()} held to {summary.safety_copy} "
                   "first.")
    click.echo(f"Restored {file} into {backup.database_label()}.")
    rows = ", ".join(f"{name} {count:,}" for name, count in summary.rows.items())
    click.echo(f"{summary.tables} tables; rows: {rows}.")
    if summary.current:
        click.echo(f"Schema version {summary.revision}: current.")
    elif summary.known_revision:
        click.echo(
            f"Schema version {summary.revision}, older than this code's {summary.head}: "
            "run `flask --app wsgi db upgrade` before starting the site.",
            err=True,
        )
    else:
        click.echo(
            f"Warning: schema version {summary.revision or 'missing'} is unknown to this "
            f"code (which expects {summary.head}): the backup may come from a newer "
            "version of the product.",
            err=True,
        )

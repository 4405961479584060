"""`flask --app wsgi import-schedule FILE.csv [--dry-run] [--allow-clash]`."""

import click
from flask.cli import with_appcontext

from booking.services.schedule.imports import MAX_BYTES, import_schedule


@click.command("import-schedule")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check the file and show what would be created, changing nothing.",
)
@click.option(
    "--allow-clash",
    is_flag=True,
    help="Import even where a room or instructor is already busy at that time.",
)
@with_appcontext
def import_schedule_command(file, dry_run, allow_clash):
    """Import a term's workshops from a schedule CSV, all or nothing."""
    data = file.read(MAX_BYTES + 1)
    result = import_schedule(data, dry_run=dry_run, allow_clash=allow_clash)
    for clash in result.clashes:
        click.echo(f"Clash: {clash}", err=True)
    if result.errors:
        for error in result.errors:
            click.echo(str(error), err=True)
        count = len(result.errors)
        raise click.ClickException(
            f"{count} {'error' if count == 1 else 'errors'} in {file.name}: "
            "nothing was imported."
        )
    count = len(result.rows)
    noun = "workshop" if count == 1 else "workshops"
    if result.clashes and not allow_clash and not dry_run:
        count = len(result.clashes)
        raise click.ClickException(
            f"{count} {'clash' if count == 1 else 'clashes'} in {file.name}: nothing was "
            "imported. Change those rows, or add --allow-clash to keep both."
        )
    if dry_run:
        click.echo(f"Dry run: {count} {noun} would be created; nothing was changed.")
        for row in result.rows:
            click.echo(f"  {row.describe()}")
        return
    click.echo(f"Imported {count} {noun}:")
    for row in result.rows:
        click.echo(f"  id {row.workshop_id}, {row.describe()}")

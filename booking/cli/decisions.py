"""The `run-decisions` command: minimum numbers, late-join cut-offs and held places."""

import click
from flask.cli import with_appcontext

from booking.services.schedule.decisions import run_decisions


@click.command("run-decisions")
@with_appcontext
def run_decisions_command():
    """Make the decisions that are due (safe to run from cron, again and again)."""
    report = run_decisions()
    click.echo(
        f"Cancelled below their minimum: {len(report.cancelled)}"
        + (
            f" (workshop {', '.join(map(str, report.cancelled))})" if report.cancelled else ""
        )
    )
    click.echo(f"Confirmed to run at their decision time: {len(report.confirmed)}")
    closed = sum(report.waitlists_closed.values())
    click.echo(
        f"Waiting lists closed: {len(report.waitlists_closed)} ({closed} waiting entries told)"
    )
    for name, count in report.steps.items():
        click.echo(f"{name.capitalize()}: {count}")

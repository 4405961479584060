"""`flask payments run [--loop]`: refunds, expired holds and offers, reconciliation."""

import click
from flask.cli import with_appcontext

from booking.cli.loop import Seconds, run_until_stopped
from booking.mail.sender import new_worker_id
from booking.services.payments.worker import run_payments


@click.group("payments")
def payments_group():
    """Online payments."""


@payments_group.command("run")
@click.option("--loop", is_flag=True, help="Keep running, every --interval seconds, until stopped.")
@click.option(
    "--interval",
    type=Seconds(0.1, 3600),
    default=10.0,
    show_default=True,
    help="Seconds between passes with --loop.",
)
@with_appcontext
def payments_run_command(loop, interval):
    """Carry out refunds (each exactly once), end holds and offers not paid in time, and
    reconcile payments whose webhook never came. Safe to run twice at once."""
    worker = new_worker_id()
    if not loop:
        _echo(run_payments(worker), always=True)
        return
    click.echo(f"Payments worker {worker} running; Ctrl-C stops.")
    run_until_stopped("payments", lambda: _echo(run_payments(worker), always=False), interval)
    click.echo("Payments worker stopped.")


def _echo(report, *, always: bool) -> None:
    busy = report.expired or report.settled or report.refunded or report.refund_failures
    if not (always or busy or report.choices_due):
        return
    click.echo(
        f"Holds ended {report.expired}, payments settled {report.settled}, refunds made "
        f"{report.refunded}, refunds failed {report.refund_failures}, session refunds due "
        f"{report.choices_due}."
    )
    for error in report.errors[:5]:
        click.echo(f"  {error}", err=True)

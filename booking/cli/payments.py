"""`flask payments run [--loop]`: refunds, expired holds and offers, reconciliation."""

import signal
import threading

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from booking.extensions import db
from booking.services.payments.worker import new_worker_id, run_payments


@click.group("payments")
def payments_group():
    """Online payments."""


@payments_group.command("run")
@click.option("--loop", is_flag=True, help="Keep running, every --interval seconds, until stopped.")
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 3600),
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
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    click.echo(f"Payments worker {worker} running; Ctrl-C stops.")
    try:
        while not stop.is_set():
            try:
                _echo(run_payments(worker), always=False)
            except sa.exc.OperationalError as exc:
                db.session.rollback()
                current_app.logger.warning("payments: database unavailable: %s", exc)
            finally:
                db.session.remove()
            stop.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
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

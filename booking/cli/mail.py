"""The mail commands: `flask outbox send [--loop] [--batch N]` and `flask send-reminders`."""


import click
from flask import current_app
from flask.cli import with_appcontext

from booking.cli.loop import run_until_stopped
from booking.mail.sender import new_worker_id, send_all_due
from booking.services.booking.reminders import send_reminders


@click.group("outbox")
def outbox_group():
    """The outbox of emails waiting to be sent."""


@outbox_group.command("send")
@click.option("--loop", is_flag=True, help="Keep running, polling for new mail, until stopped.")
@click.option(
    "--batch",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="Messages claimed at a time.",
)
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 3600),
    default=5.0,
    show_default=True,
    help="Seconds between polls with --loop.",
)
@with_appcontext
def outbox_send_command(loop, batch, interval):
    """Send the emails that are due (over SMTP, or as .eml files without MAIL_SERVER)."""
    worker = new_worker_id()
    where = current_app.config["MAIL_SERVER"] or current_app.config["MAIL_DIR"]
    if not loop:
        report = send_all_due(batch, worker)
        _echo(report)
        return
    click.echo(f"Outbox sender {worker} delivering to {where}; Ctrl-C stops.")

    def one_pass():
        report = send_all_due(batch, worker)
        if report.claimed:
            _echo(report)

    run_until_stopped("outbox", one_pass, interval)
    click.echo("Outbox sender stopped.")


def _echo(report) -> None:
    click.echo(f"Sent {report.sent}, will retry {report.retrying}, failed {report.failed}.")
    for error in report.errors[:5]:
        click.echo(f"  {error}", err=True)


@click.command("send-reminders")
@with_appcontext
def send_reminders_command():
    """Queue a reminder before every session that starts within 48 hours (each once)."""
    count = send_reminders()
    click.echo(f"Queued {count} reminder{'s' if count != 1 else ''}.")


def init_app(app) -> None:
    """Register the mail commands."""
    app.cli.add_command(outbox_group)
    app.cli.add_command(send_reminders_command)

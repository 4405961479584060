"""The mail commands: `flask outbox send [--loop] [--batch N]`, `flask outbox
retry-failed [--id N]... [--days N] [--dry-run]`, `flask send-reminders
[--loop]` (reminders, home-practice sheets and evaluation requests) and `flask
send-practice [--loop]` (the sheets and evaluation requests alone)."""


from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from booking.cli.loop import Seconds, run_until_stopped
from booking.mail.sender import new_worker_id, requeue_failed, send_all_due
from booking.models import utcnow
from booking.services.booking.reminders import send_reminders
from booking.services.plans.evaluations import ask_for_evaluations
from booking.services.plans.practice import send_practice_sheets

# `outbox send`'s exit status when the mail server could not be reached (sysexits.h's
# EX_TEMPFAIL: try again later).
EX_TEMPFAIL = 75


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
    type=Seconds(0.1, 3600),
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
        if report.unreachable:  # cron (or whoever ran it) is told: nothing is lost
            server = f"{current_app.config['MAIL_SERVER']}:{current_app.config['MAIL_PORT']}"
            click.echo(f"Error: the mail server {server} could not be reached; the emails "
                       "due are tried again later.", err=True)
            raise SystemExit(EX_TEMPFAIL)
        return
    click.echo(f"Outbox sender {worker} delivering to {where}; Ctrl-C stops.")

    def one_pass():
        report = send_all_due(batch, worker)
        if report.claimed:
            _echo(report)

    run_until_stopped("outbox", one_pass, interval)
    click.echo("Outbox sender stopped.")


@outbox_group.command("retry-failed")
@click.option("--id", "ids", type=click.IntRange(1), multiple=True,
              help="A failed message to queue again, whatever its age (repeat for more).")
@click.option("--days", type=click.IntRange(1, 3650), default=3, show_default=True,
              help="Without --id: the failed messages created in the last N days.")
@click.option("--dry-run", is_flag=True, help="List them without queueing them.")
@with_appcontext
def outbox_retry_failed_command(ids, days, dry_run):
    """Queue again the emails the sender gave up on (after 8 attempts, or refused for
    good), each with 8 new attempts: after a mail-server outage, say. Read the list
    (--dry-run) first: a reminder or a link may be out of date by now."""
    since = utcnow() - timedelta(days=days)
    found, missing = requeue_failed(tuple(sorted(set(ids))), since=None if ids else since,
                                    dry_run=dry_run)
    for message in found:
        error = (message.last_error or "").splitlines()[0][:120] if message.last_error else ""
        state = "" if dry_run else ("queued " if message.queued else "changed meanwhile, left ")
        click.echo(f"  {state}#{message.id} {message.created_at:%Y-%m-%d %H:%M} UTC "
                   f"{message.subject[:80]!r}" + (f": {error}" if error else ""))
    for message_id in missing:
        click.echo(f"  #{message_id} is not a failed email that can be sent again (no such "
                   "email, not failed, or its content removed after the retention time): "
                   "left alone", err=True)
    queued = sum(message.queued for message in found)
    scope = "named" if ids else f"created in the last {_plural(days, 'day', 'days')}"
    if dry_run:
        click.echo(f"{_plural(len(found), 'failed email', 'failed emails')} {scope}; "
                   "nothing queued (--dry-run).")
    else:
        click.echo(f"Queued {_plural(queued, 'failed email', 'failed emails')} {scope} again; "
                   "`outbox send` sends them.")
    if missing:
        raise SystemExit(1)


def _echo(report) -> None:
    click.echo(f"Sent {report.sent}, will retry {report.retrying}, failed {report.failed}.")
    for error in report.errors[:5]:
        click.echo(f"  {error}", err=True)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _send_practice_and_evaluations() -> tuple[int, int]:
    """Send the due home-practice sheets, then ask finished courses for evaluations."""
    return send_practice_sheets(), ask_for_evaluations()


def _echo_practice(sheets: int, asked: int) -> None:
    click.echo(f"Sent {_plural(sheets, 'home-practice sheet', 'home-practice sheets')}.")
    click.echo(f"Asked {_plural(asked, 'family', 'families')} to evaluate their course.")


def _run(one_pass, loop: bool, interval: float, name: str) -> None:
    """Run `one_pass` once, or with --loop every `interval` seconds until stopped."""
    if not loop:
        one_pass()
        return
    click.echo(f"{name} every {interval:g} seconds; Ctrl-C stops.")
    run_until_stopped(name, one_pass, interval)
    click.echo(f"{name} stopped.")


LOOP_OPTION = click.option(
    "--loop", is_flag=True, help="Keep running, checking again every --interval, until stopped."
)
INTERVAL_OPTION = click.option(
    "--interval",
    type=Seconds(1, 3600),
    default=60.0,
    show_default=True,
    help="Seconds between runs with --loop.",
)


@click.command("send-reminders")
@LOOP_OPTION
@INTERVAL_OPTION
@with_appcontext
def send_reminders_command(loop, interval):
    """Queue a reminder before every session that starts within 48 hours, the
    home-practice sheet after every session that has ended, and the evaluation request
    at the end of every course (each once; safe from cron)."""

    def one_pass():
        count = send_reminders()
        sheets, asked = _send_practice_and_evaluations()
        if loop and not (count or sheets or asked):
            return
        click.echo(f"Queued {_plural(count, 'reminder', 'reminders')}.")
        _echo_practice(sheets, asked)

    _run(one_pass, loop, interval, "Reminders")


@click.command("send-practice")
@LOOP_OPTION
@INTERVAL_OPTION
@with_appcontext
def send_practice_command(loop, interval):
    """Send the home-practice sheet after every session that has ended and ask every
    finished course for its evaluation (each once; safe from cron)."""

    def one_pass():
        sheets, asked = _send_practice_and_evaluations()
        if loop and not (sheets or asked):
            return
        _echo_practice(sheets, asked)

    _run(one_pass, loop, interval, "Home practice")


def init_app(app) -> None:
    """Register the mail commands."""
    app.cli.add_command(outbox_group)
    app.cli.add_command(send_reminders_command)
    app.cli.add_command(send_practice_command)

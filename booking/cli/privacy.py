"""`flask --app wsgi purge-expired [--days N]`: anonymise old personal data, from cron."""

import click
from flask.cli import with_appcontext

from booking.services.accounts.invites import KEEP_DAYS, purge_invitations
from booking.services.accounts.passwords_reset import purge_reset_tokens
from booking.services.catalogue.geocode import purge_place_answers
from booking.services.errors import DomainError
from booking.services.privacy.erase import MAX_RETENTION_DAYS, purge_counts


@click.command("purge-expired")
@click.option(
    "--days",
    type=click.IntRange(min=1, max=MAX_RETENTION_DAYS),
    default=None,
    help="Retention time in days after a class's last session "
    "(default: PURGE_AFTER_DAYS, 365).",
)
@with_appcontext
def purge_expired_command(days):
    """Anonymise babies', bookings' and emails' personal data past the retention time,
    delete the health answers, "Ready" answers, clearances and home-practice sheets that
    went with them, take the words out of course evaluations, and
    delete password-reset links that were used or have expired, invitations used,
    withdrawn or expired more than 30 days ago, and place-search answers too old to use."""
    try:
        counts = purge_counts(days=days)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    anonymised = counts.total - counts.health - counts.evaluations - counts.sheets
    click.echo(
        f"Anonymised {_count(anonymised, 'record')} older than "
        f"{counts.cutoff:%Y-%m-%d %H:%M} UTC: {_count(counts.babies, 'baby', 'babies')}, "
        f"{_count(counts.registrations, 'booking')}, {_count(counts.emails, 'sent email')}; "
        f"deleted {_count(counts.health, 'health record')}."
    )
    click.echo(
        f"Took the words out of {_count(counts.evaluations, 'course evaluation')} and "
        f"deleted {_count(counts.sheets, 'home-practice sheet')}."
    )
    links = purge_reset_tokens()
    click.echo(f"Deleted {_count(links, 'used or expired password-reset link')}.")
    invitations = purge_invitations()
    click.echo(
        f"Deleted {_count(invitations, 'invitation')} used, withdrawn or expired "
        f"more than {KEEP_DAYS} days ago."
    )
    places = purge_place_answers()
    click.echo(f"Deleted {_count(places, 'old place-search answer')}.")


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"

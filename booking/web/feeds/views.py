"""Feed, invite and calendar-link views: thin wrappers over booking.calendar and
booking.services.accounts.feed_tokens."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from booking.calendar import feeds
from booking.calendar.build import base_url
from booking.calendar.invite import PUBLISH
from booking.calendar.links import google_subscribe_url
from booking.extensions import db
from booking.models import Registration
from booking.models.registration import CONFIRMED
from booking.revision_cache import kept_feed
from booking.services.accounts import feed_tokens
from booking.services.notices.invites import invite_for_registration
from booking.web.feeds.blueprint import bp
from booking.web.feeds.forms import FeedLinkForm
from booking.web.feeds.responses import download_response, feed_response
from booking.web.ids import parse_id

FEED_NOT_FOUND = (
    "There is no calendar feed at this address. The link may be mistyped, or it may "
    "have been replaced with a new one."
)


def _serve(source: feeds.FeedSource | None):
    if source is None:
        abort(404, FEED_NOT_FOUND)
    version = feeds.feed_version(source)
    # The feed is a function of its ETag: rendered once per change, whoever asks.
    return feed_response(
        version,
        lambda: kept_feed(
            version.etag,
            lambda: feeds.render_feed(source),
            still_current=lambda: feeds.feed_version(source, fresh=True).etag == version.etag,
        ),
        source.filename,
        source.is_private,
    )


@bp.route("/feeds/centres/<slug>.ics")
def centre_feed(slug: str):
    """A published centre's public schedule as a calendar feed."""
    return _serve(feeds.centre_feed(slug))


@bp.route("/feeds/instructors/<instructor_id>.ics")
def instructor_feed(instructor_id: str):
    """An instructor's public teaching schedule as a calendar feed."""
    # Not an <int:...> rule: a mistyped id gets the same message as any unknown feed.
    user_id = parse_id(instructor_id)
    if user_id is None:
        abort(404, FEED_NOT_FOUND)
    return _serve(feeds.instructor_feed(user_id))


@bp.route("/feeds/private/<token>.ics")
def private_feed(token: str):
    """A person's own bookings (and teaching), opened by their secret link."""
    user = feed_tokens.user_for_feed_token(token)
    return _serve(feeds.private_feed(user) if user is not None else None)


def _links(token: str) -> dict[str, str]:
    https = base_url() + url_for("feeds.private_feed", token=token)
    webcal = "webcal://" + https.split("://", 1)[1]
    return {"https": https, "webcal": webcal, "google": google_subscribe_url(webcal)}


def _checked_form() -> None:
    """Refuse a post whose form (its CSRF token) had expired."""
    if not FeedLinkForm().validate_on_submit():
        abort(400, "This form had expired. Please reload the page and try again.")


@bp.route("/account/calendar")
@login_required
def calendar_link():
    """The private calendar link, shown on every visit, with how to subscribe."""
    link = feed_tokens.feed_link(current_user.id)
    return render_template(
        "feeds/calendar.html",
        form=FeedLinkForm(),
        link=link,
        links=_links(link.token) if link.token else None,
    )


@bp.route("/account/calendar", methods=["POST"])
@bp.route("/account/calendar/reset", methods=["POST"])
@login_required
def reset_calendar_link():
    """Make a new private calendar link; any old link stops working at once."""
    _checked_form()
    had_link = feed_tokens.has_feed_token(current_user.id)
    feed_tokens.issue_feed_token(current_user.id)
    if had_link:
        flash("Your new calendar link is ready. The old link no longer works.", "success")
    else:
        flash("Your calendar link is ready.", "success")
    return redirect(url_for("feeds.calendar_link"))


@bp.route("/account/calendar/stop", methods=["POST"])
@login_required
def stop_calendar_link():
    """Stop the private calendar link without making a new one."""
    _checked_form()
    feed_tokens.revoke_feed_token(current_user.id)
    flash(
        "Your calendar link is stopped: calendars that used it get nothing more from us.",
        "success",
    )
    return redirect(url_for("feeds.calendar_link"))


@bp.route("/account/bookings/<int:registration_id>/invite.ics")
@login_required
def booking_invite(registration_id: int):
    """The calendar file of one of the parent's own confirmed bookings."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.parent_id != current_user.id:
        abort(404, "We could not find that booking in your account.")
    if registration.status != CONFIRMED:
        abort(404, "Only a confirmed place has a calendar file.")
    text = invite_for_registration(registration, method=PUBLISH)
    return download_response(text, f"booking-{registration.id}.ics")

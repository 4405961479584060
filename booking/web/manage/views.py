"""Back office: the dashboard and the centre profile."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking.auth_setup import staff_required
from booking.services.catalogue import centres as centre_service
from booking.services.errors import DomainError
from booking.services.schedule.clashes import Clash, summarise
from booking.timefmt import format_local
from booking.web.forms import put_domain_error, status_for
from booking.web.manage import queries
from booking.web.manage.access import centre_or_404
from booking.web.manage.blueprint import bp
from booking.web.manage.forms import CentreProfileForm


@bp.route("")
@staff_required
def index():
    """The staff's centres and their workshops, upcoming first."""
    centres = centre_service.managed_centres(current_user)
    upcoming, past = queries.dashboard([c.id for c in centres])
    return render_template("manage/index.html", centres=centres, upcoming=upcoming, past=past)


def _fill_profile_form(form: CentreProfileForm, centre) -> None:
    for name in form.data:
        if name in ("csrf_token", "keep_local_times", "allow_clash"):
            continue
        value = getattr(centre, name)
        if name in ("latitude", "longitude"):
            value = "" if value is None else f"{value:g}"
        form[name].data = value


def _zone_news(moved) -> str:
    """What a new time zone did to the sessions still to come (kept their moment in
    time, so they show at other local times; or kept their local times, so they moved),
    so that it is never a silent change."""
    if moved is None:
        return ""
    before = format_local(moved.next_starts_at, moved.old_zone)
    now = format_local(moved.next_starts_at, moved.new_zone)
    if moved.kept_local:
        return f" The time zone is now {moved.new_zone}: {_kept_local_news(moved, now)}."
    if moved.sessions == 1:
        what = ("its one session still to come keeps its moment in time, so families' "
                "calendars are unchanged and nobody was emailed, but it shows at another "
                f"local time: {before} before, {now} now")
    else:
        what = (f"its {moved.sessions} sessions still to come keep their moment in time, so "
                "families' calendars are unchanged and nobody was emailed, but they show "
                f"at other local times: the next, {before} before, is {now} now")
    return (
        f" The time zone is now {moved.new_zone}: {what}. If the classes should keep their "
        f"local times instead, save {moved.old_zone} again, then {moved.new_zone} with "
        "\u201ckeep the classes at the same local times\u201d ticked."
    )


def _kept_local_news(moved, now: str) -> str:
    if moved.sessions == 1:
        what = f"its one session still to come keeps its local time ({now})"
    else:
        what = (f"its {moved.sessions} sessions still to come keep their local times (the "
                f"next: {now})")
    told = moved.classes_told
    if not told:
        return f"{what}; no published class moved in time, so nobody was emailed"
    classes = "1 class" if told == 1 else f"{told} classes"
    moved_in_time = "it moved" if moved.sessions == 1 else "they moved"
    return (f"{what}, so {moved_in_time} in time: the families booked in {classes}, "
            "make-up visitors and instructors have been emailed, with their calendars "
            "updated")


@bp.route("/centres/<int:centre_id>", methods=["GET", "POST"])
@staff_required
def centre_profile(centre_id: int):
    """Edit a centre's public profile."""
    centre = centre_or_404(centre_id)
    form = CentreProfileForm()
    if not current_user.is_admin:
        # Showing or hiding a centre is an admin's decision (a centre an admin hid stays
        # hidden): its staff see which it is.
        del form.published
    status = 200
    clashes: list[str] = []
    if request.method == "GET":
        _fill_profile_form(form, centre)
    elif form.validate_on_submit():
        fields = {k: v for k, v in form.data.items() if k != "csrf_token"}
        try:
            saved = centre_service.update_centre(
                centre.id, may_publish=current_user.is_admin, **fields
            )
        except DomainError as exc:
            put_domain_error(form, exc, flash_rest=True)
            status = status_for(exc)
            clashes = summarise(exc.found) if isinstance(exc, Clash) else []
        else:
            told = saved.classes_told
            news = (
                f" Where {'its class' if told == 1 else f'its {told} classes'} still to "
                "come meet has changed: their families, make-up visitors and instructors "
                "have been emailed, with their calendars updated."
                if told else ""
            )
            flash(f"The centre's profile is saved.{news}{_zone_news(saved.zone_moved)}",
                  "success")
            return redirect(url_for("manage.centre_profile", centre_id=centre.id))
    else:
        status = 422
    return render_template(
        "manage/centre_profile.html", form=form, centre=centre, clashes=clashes
    ), status

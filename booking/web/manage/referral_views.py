"""Back office: a workshop's topics, held places and referral codes."""

from datetime import datetime, time

from flask import flash, redirect, render_template, request, url_for

from booking.auth_setup import staff_required
from booking.services.booking import referrals
from booking.services.booking.places import booking_closes_at, public_places_left
from booking.services.errors import DomainError
from booking.services.schedule.queries import workshop_topics
from booking.services.schedule.topic_tags import set_workshop_topics
from booking.timefmt import local_to_utc, to_local
from booking.web.forms import put_domain_error, status_for
from booking.web.manage.access import workshop_or_404
from booking.web.manage.blueprint import bp
from booking.web.manage.forms import ActionForm
from booking.web.manage.referral_forms import CreateCodesForm, HeldPlacesForm, TopicsForm

HELD_ALIASES = {"held_until": "held_until_date"}
CODE_ALIASES = {"expires_at": "expires_on"}


def _held_form(workshop, tz: str) -> HeldPlacesForm:
    data = {"held_places": workshop.held_places}
    if workshop.held_until is not None:
        local = to_local(workshop.held_until, tz)
        data.update(held_until_date=local.date(), held_until_time=local.time())
    return HeldPlacesForm(formdata=None, data=data)


def _page(workshop, centre, *, held_form=None, codes_form=None, created=(), status=200):
    response = render_template(
        "manage/referrals.html",
        workshop=workshop,
        centre=centre,
        held_form=held_form or _held_form(workshop, centre.timezone),
        codes_form=codes_form or CreateCodesForm(formdata=None),
        action_form=ActionForm(formdata=None),
        codes=referrals.workshop_codes(workshop.id),
        closes=booking_closes_at(workshop),
        public_places=public_places_left(workshop),
        created=created,
    )
    headers = {"Cache-Control": "no-store"} if created else {}
    return response, status, headers


def _back(workshop_id: int):
    return redirect(url_for("manage.referral_codes", workshop_id=workshop_id))


@bp.route("/workshops/<int:workshop_id>/referrals")
@staff_required
def referral_codes(workshop_id: int):
    """Held places and referral codes of a workshop: who used which code, and when."""
    workshop, centre = workshop_or_404(workshop_id)
    return _page(workshop, centre)


@bp.route("/workshops/<int:workshop_id>/held-places", methods=["POST"])
@staff_required
def held_places(workshop_id: int):
    """Set how many places are held and when unclaimed ones go to the public."""
    workshop, centre = workshop_or_404(workshop_id)
    form = HeldPlacesForm()
    if not form.validate_on_submit():
        return _page(workshop, centre, held_form=form, status=422)
    until = None
    if form.held_until_date.data is not None:
        clock = form.held_until_time.data or time(9, 0)
        until = local_to_utc(
            datetime.combine(form.held_until_date.data, clock), centre.timezone
        )
    try:
        referrals.set_held_places(workshop.id, form.held_places.data, until)
    except DomainError as exc:
        put_domain_error(form, exc, HELD_ALIASES, flash_rest=True)
        workshop, centre = workshop_or_404(workshop_id)
        return _page(workshop, centre, held_form=form, status=status_for(exc))
    flash("The held places are saved.", "success")
    return _back(workshop.id)


@bp.route("/workshops/<int:workshop_id>/referrals", methods=["POST"])
@staff_required
def referral_codes_create(workshop_id: int):
    """Create single-use referral codes; their text is shown on this page only, once."""
    workshop, centre = workshop_or_404(workshop_id)
    form = CreateCodesForm()
    if not form.validate_on_submit():
        return _page(workshop, centre, codes_form=form, status=422)
    expires = None
    if form.expires_on.data is not None:
        expires = local_to_utc(
            datetime.combine(form.expires_on.data, time(23, 59)), centre.timezone
        )
    try:
        created = referrals.create_codes(
            workshop.id, count=form.count.data, label=form.label.data or "", expires_at=expires
        )
    except DomainError as exc:
        put_domain_error(form, exc, CODE_ALIASES, flash_rest=True)
        return _page(workshop, centre, codes_form=form, status=status_for(exc))
    return _page(workshop, centre, created=[c.code for c in created], status=201)


@bp.route("/workshops/<int:workshop_id>/referrals/<int:code_id>/revoke", methods=["POST"])
@staff_required
def referral_code_revoke(workshop_id: int, code_id: int):
    """Revoke an unused referral code so it can no longer be used."""
    workshop, centre = workshop_or_404(workshop_id)
    if not ActionForm().validate_on_submit():
        flash("That form had expired; please try again.", "error")
        return _back(workshop.id)
    try:
        referrals.revoke_code(workshop.id, code_id)
    except DomainError as exc:
        flash(exc.message, "error")
        return _page(workshop, centre, status=status_for(exc))
    flash("The code is revoked.", "success")
    return _back(workshop.id)


@bp.route("/workshops/<int:workshop_id>/topics", methods=["GET", "POST"])
@staff_required
def workshop_topics_edit(workshop_id: int):
    """Choose the topics a workshop is especially for, from the fixed list."""
    workshop, centre = workshop_or_404(workshop_id)
    if request.method == "GET":
        form = TopicsForm(data={"topics": workshop_topics(workshop.id)})
    else:
        form = TopicsForm()
    status = 200
    if form.validate_on_submit():
        try:
            set_workshop_topics(workshop.id, form.topics.data or [])
        except DomainError as exc:
            put_domain_error(form, exc, flash_rest=True)
            status = status_for(exc)
        else:
            flash("The topics are saved.", "success")
            return redirect(url_for("manage.workshop", workshop_id=workshop.id))
    elif form.is_submitted():
        status = 422
    return (
        render_template("manage/workshop_topics.html", form=form, workshop=workshop, centre=centre),
        status,
    )

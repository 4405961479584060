"""Booking a place: POST /classes/<id>/book (and a booking page for errors)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking.extensions import limiter
from booking.services.accounts.contact import check_phone, set_phone
from booking.services.booking.book import NotEligible, book_place
from booking.services.booking.queries import is_visible_workshop, visible_workshop
from booking.services.errors import DomainError, Invalid
from booking.services.health.answers import health_check
from booking.web.account.blueprint import bp
from booking.web.account.forms import BookForm
from booking.web.account.panel import booking_panel_context, class_path
from booking.web.forms import put_domain_error
from booking.web.ids import parse_id
from booking.web.referral_limits import (
    REFERRAL_LIMIT_PER_IP,
    REFERRAL_LIMIT_PER_USER,
    referral_user_key,
    without_referral_code,
)

NOT_FOUND = "We could not find that class. It may have been withdrawn."


def render_book_page(workshop, form: BookForm, status: int, *, fits_link: str | None = None):
    """The class summary and the booking form with its errors."""
    return (
        render_template(
            "account/book.html",
            workshop=workshop,
            booking=booking_panel_context(workshop, form),
            fits_link=fits_link,
        ),
        status,
    )


def _render_again(workshop_id: int, form: BookForm, status: int, **kwargs):
    """The booking page with the form's errors; 404 if the class is no longer visible."""
    workshop = visible_workshop(workshop_id)
    if workshop is None:
        abort(404, NOT_FOUND)
    return render_book_page(workshop, form, status, **kwargs)


def success_message(result) -> tuple[str, str]:
    """The flash after booking: confirmed, waiting (with position), or already there."""
    baby = result.baby_name
    title = result.workshop_title
    if result.confirmed:
        if result.created:
            return f"Booked: {baby} has a place in {title}. We have emailed you the details.", (
                "success"
            )
        return f"{baby} already has a place in {title}.", "info"
    if result.created:
        return (
            f"{title} is full, so {baby} is on the waiting list: you are number "
            f"{result.position} on the waiting list. We will email you if a place comes up.",
            "info",
        )
    if result.position is None:  # waiting, but the baby no longer fits the class's ages
        return (
            f"{baby} is already on the waiting list for {title}, but no longer fits its "
            "ages, so no place will be offered from it: your bookings say why.",
            "info",
        )
    return (
        f"{baby} is already on the waiting list for {title}: you are number "
        f"{result.position} on the waiting list.",
        "info",
    )


def health_to_do(result) -> bool:
    """Whether the booking's health answers still need the parent: always for a new
    booking (nothing is confirmed when booking), else as its health check says (read
    only then, so a new booking's page reads nothing after its commit)."""
    if result.created:
        return True
    return not health_check(current_user.id, result.registration_id).done


def _save_phone(phone: str) -> None:
    """Keep the phone number given with a booking that went through; a refusal here
    (it was checked before booking) costs the parent nothing but a message."""
    try:
        set_phone(current_user.id, phone)
    except DomainError as exc:
        flash(exc.message, "error")


@bp.route("/classes/<int:workshop_id>/book", methods=["GET", "POST"])
@limiter.limit(REFERRAL_LIMIT_PER_IP, methods=["POST"], exempt_when=without_referral_code)
@limiter.limit(
    REFERRAL_LIMIT_PER_USER,
    key_func=referral_user_key,
    methods=["POST"],
    exempt_when=without_referral_code,
)
def book(workshop_id: int):
    """Book a place in a class for one of the parent's babies or a new baby."""
    # A POST that books needs no loaded workshop (book_place locks and reads its own,
    # and refuses one the public may not see: the page shown again then is a 404); only
    # a page shown again with errors does, and loads it then. Someone not logged in is
    # sent to log in, but only for a class they may see.
    if request.method == "GET":
        workshop = visible_workshop(workshop_id)
        if workshop is None:
            abort(404, NOT_FOUND)
    elif not current_user.is_authenticated and not is_visible_workshop(workshop_id):
        abort(404, NOT_FOUND)
    if not current_user.is_authenticated:
        flash("Please log in (or create an account) to book a place.", "info")
        next_path = class_path(workshop_id) if request.method == "POST" else request.path
        return redirect(url_for("auth.login", next=next_path))
    if request.method == "GET":
        return render_book_page(workshop, BookForm(formdata=None), 200)
    form = BookForm()
    ok = form.validate()
    # The phone number is asked only while the account has none.
    phone = ""
    if not current_user.phone:
        try:
            phone = check_phone(form.phone.data)
        except Invalid as exc:
            put_domain_error(form, exc)
            ok = False
    if not ok:
        return _render_again(workshop_id, form, 422)
    new_baby = form.wants_new_baby
    try:
        result = book_place(
            parent_id=current_user.id,
            workshop_id=workshop_id,
            baby_id=None if new_baby else parse_id(form.baby_id.data),
            baby_name=form.baby_name.data if new_baby else None,
            baby_dob=form.baby_dob.data if new_baby else None,
            baby_due_date=form.baby_due_date.data if new_baby else None,
            consent=form.consent.data,
            referral_code=form.referral_code.data or None,
            note_seen=form.note_seen.data or None,
        )
    except NotEligible as exc:
        # A new baby's age comes from the date of birth typed: the message goes beside it.
        put_domain_error(form, exc, {"baby_id": "baby_dob"} if new_baby else None)
        link = (
            url_for("public.classes", age_weeks=exc.age_weeks_now)
            if exc.age_weeks_now is not None else None
        )
        return _render_again(workshop_id, form, exc.status, fits_link=link)
    except DomainError as exc:
        # A due date filled in for a baby already saved is refused under the baby's own
        # field name (`babies._with_due_date`): beside the due date here.
        put_domain_error(form, exc, {"date_of_birth": "baby_due_date"})
        if "consent" in (exc.fields or {}):
            form.consent.data = False  # to be ticked again, for the note shown now
        return _render_again(workshop_id, form, exc.status)
    if phone:
        _save_phone(phone)
    if result.awaiting_payment:
        flash(
            f"A place is held for {result.baby_name} while you pay. Pay now to keep it.", "info"
        )
        return redirect(url_for("account.pay", registration_id=result.registration_id))
    message, category = success_message(result)
    flash(message, category)
    if health_to_do(result):
        flash(
            f"One more step: {result.baby_name}'s health questions, so the instructor knows "
            "what to look out for.",
            "info",
        )
        return redirect(url_for("account.booking_health", registration_id=result.registration_id))
    if result.confirmed:
        return redirect(url_for("account.booked", registration_id=result.registration_id))
    return redirect(url_for("account.bookings"))

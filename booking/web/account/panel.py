"""The booking panel's data, offered to every template (the class page includes it)."""

from flask import url_for
from flask_login import current_user

from booking.services.booking.queries import panel_state
from booking.web.account.blueprint import bp
from booking.web.account.forms import BookForm


def class_path(workshop_id: int) -> str:
    """The public page of a class (PRODUCT.md: /classes/<id>)."""
    return f"/classes/{workshop_id}"


def booking_panel_context(workshop, form: BookForm | None = None, facts=None) -> dict:
    """What templates/public/_booking_panel.html shows for a workshop and the current user
    (`facts`: the panel's `PanelFacts`, when the page read them with its workshop)."""
    logged_in = bool(current_user and current_user.is_authenticated)
    state = panel_state(workshop, current_user.id if logged_in else None, facts)
    if logged_in:
        # Only the links the form shows: a parent books, anyone else logs in first.
        links = {
            "book_url": url_for("account.book", workshop_id=state.workshop.id),
            "bookings_url": url_for("account.bookings"),
        }
    else:
        back = class_path(state.workshop.id)
        links = {
            "login_url": url_for("auth.login", next=back),
            "register_url": url_for("auth.register", next=back),
        }
    return {
        "panel": state,
        # Only a logged-in parent sees the form: an anonymous page makes no CSRF token,
        # so it sets no cookie and the page cache can keep it (booking.page_cache).
        "form": form if form is not None or not logged_in else BookForm(formdata=None),
        "logged_in": logged_in,
        # The form asks for a phone number while the account has none.
        "ask_phone": logged_in and not current_user.phone,
        **links,
    }


@bp.app_context_processor
def booking_panel_helpers() -> dict:
    """Make `booking_panel_context(workshop)` callable from any template."""
    return {"booking_panel_context": booking_panel_context}

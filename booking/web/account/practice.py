"""A family's home-practice sheets, every week of every course, to read again or print."""

from flask import abort, render_template
from flask_login import current_user, login_required

from booking.services.errors import NotFound
from booking.services.plans.practice import parent_practice, parent_sheet
from booking.web.account.blueprint import bp


@bp.get("/account/practice")
@login_required
def practice_list():
    """Every home-practice sheet the family has had, grouped by course, newest first."""
    return render_template("account/practice_list.html", courses=parent_practice(current_user.id))


@bp.get("/account/practice/<int:sheet_id>")
@login_required
def practice_sheet(sheet_id: int):
    """One of the family's own sheets, whole, ready to print on one page."""
    try:
        sheet = parent_sheet(current_user.id, sheet_id)
    except NotFound as exc:
        abort(404, exc.message)
    return render_template("account/practice_sheet.html", sheet=sheet)

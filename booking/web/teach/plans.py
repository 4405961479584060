"""Session plans an instructor writes for their own workshops.

The same page as the staff's (booking.web.manage.plan_views.plans_view), limited to
the workshops the instructor leads: any other is a 404.
"""

from booking.auth_setup import instructor_required
from booking.web.manage.plan_views import plans_view
from booking.web.teach.blueprint import bp


@bp.route("/workshops/<int:workshop_id>/plans", methods=["GET", "POST"])
@instructor_required
def workshop_plans(workshop_id: int):
    """Each session's plan of one of the instructor's workshops: its title, what it
    covers and its home practice, written by hand or started from a template."""
    return plans_view(workshop_id, teaching=True)

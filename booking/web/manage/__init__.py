"""Centre staff: their centres' profiles, workshops, sessions, registrations and imports."""

# The view modules register their routes on `bp` when imported; add new ones here.
from booking.web.manage import (  # noqa: F401
    calendar_views,
    chart_views,
    copy_views,
    decision_views,
    evaluation_views,
    health_views,
    import_views,
    payment_views,
    plan_views,
    referral_views,
    registration_views,
    views,
    workshop_views,
)
from booking.web.manage.blueprint import bp

__all__ = ["bp"]

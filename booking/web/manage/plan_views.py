"""Session plans: starting a workshop from a template and editing each week's plan."""

from booking.web.manage.blueprint import bp  # noqa: F401

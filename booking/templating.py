"""Template filters and globals."""

from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency
from flask import current_app

from booking import timefmt
from booking.topics import TOPICS, topic_name


@lru_cache(maxsize=4096)
def format_price(amount: Decimal | None, currency: str = "GBP") -> str:
    """'£45.00', or 'Free' for nothing."""
    if amount is None or amount == 0:
        return "Free"
    return format_currency(amount, currency, locale=timefmt.LOCALE)


def render_shared(template: str, **context) -> str:
    """A template rendered with only the context given: no request, session or current
    user (a template that asks for one fails), so that what it renders may be served to
    everyone (booking.revision_cache.cached_listing)."""
    return current_app.jinja_env.get_template(template).render(**context)


def init_app(app) -> None:
    """Register the filters used by the templates."""
    app.jinja_env.filters["local_dt"] = timefmt.format_local
    app.jinja_env.filters["local_date"] = timefmt.format_local_date
    app.jinja_env.filters["local_time"] = timefmt.format_local_time
    app.jinja_env.filters["zone"] = timefmt.zone_abbrev
    app.jinja_env.filters["day"] = timefmt.format_day
    app.jinja_env.filters["price"] = format_price
    app.jinja_env.filters["topic_name"] = topic_name
    app.jinja_env.globals["TOPICS"] = TOPICS
    app.jinja_env.globals["url_endpoints"] = app.view_functions
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

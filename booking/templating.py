"""Template filters and globals."""

from decimal import Decimal
from functools import lru_cache

from babel.lists import format_list
from babel.numbers import format_currency
from flask import current_app
from markupsafe import Markup

from booking import timefmt
from booking.topics import TOPICS, topic_name


@lru_cache(maxsize=4096)
def format_price(amount: Decimal | None, currency: str = "GBP") -> str:
    """'£45.00', or 'Free' for nothing."""
    if amount is None or amount == 0:
        return "Free"
    return format_currency(amount, currency, locale=timefmt.LOCALE)


def format_names(names) -> str:
    """'Amy', 'Amy and Bea', 'Amy, Bea and Cal': several babies named in one sentence,
    so a family with twins is written to about both; '' for none."""
    names = [name for name in names if name]
    return format_list(names, locale=timefmt.LOCALE) if names else ""


class _NotShared:
    """Stands for what a shared template may not use: anything asked of it fails."""

    def __init__(self, name: str):
        self._name = name

    def _refuse(self, *args, **kwargs):
        raise RuntimeError(f"a shared template may not use {self._name}: what it renders "
                           "is served to everyone")

    __getattr__ = __call__ = __getitem__ = __iter__ = __bool__ = __str__ = _refuse


# Flask's and its extensions' names for the request and the visitor, shadowed.
_VIEWER_NAMES = ("request", "session", "g", "current_user", "csrf_token",
                 "get_flashed_messages")


def render_shared(template, **context) -> str:
    """A template (a name, or a Template) rendered with only the context given: the
    request, the session, `g`, the current user, the CSRF token and flashed messages
    are not there (a template that asks for one fails), so that what it renders may be
    served to everyone (booking.revision_cache.cached_listing)."""
    shadowed = {name: _NotShared(name) for name in _VIEWER_NAMES}
    return current_app.jinja_env.get_template(template).render(**shadowed, **context)


def shared_html(text: str) -> Markup:
    """What `render_shared` rendered (and a cache kept), put back into a page as HTML."""
    # Only ever the output of an autoescaped template render, never anyone's input.
    return Markup(text)  # nosec B704


def init_app(app) -> None:
    """Register the filters used by the templates."""
    app.jinja_env.filters["local_dt"] = timefmt.format_local
    app.jinja_env.filters["local_date"] = timefmt.format_local_date
    app.jinja_env.filters["local_time"] = timefmt.format_local_time
    app.jinja_env.filters["end_time"] = timefmt.format_end_time
    app.jinja_env.filters["time_range"] = timefmt.format_time_range
    app.jinja_env.filters["zone"] = timefmt.zone_abbrev
    app.jinja_env.filters["day"] = timefmt.format_day
    app.jinja_env.filters["price"] = format_price
    app.jinja_env.filters["topic_name"] = topic_name
    app.jinja_env.globals["TOPICS"] = TOPICS
    app.jinja_env.globals["url_endpoints"] = app.view_functions
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

"""The web layer: one blueprint per audience."""

from importlib import import_module

from booking.web import forms, ids, input_guard

BLUEPRINTS = (
    "booking.web.public",
    "booking.web.auth",
    "booking.web.api",
    "booking.web.account",
    "booking.web.feeds",
    "booking.web.teach",
    "booking.web.manage",
    "booking.web.admin",
    "booking.web.tokens",
    "booking.web.privacy",
    "booking.web.embed",
    "booking.web.topics",
    "booking.web.payments",
    "booking.web.ops",
)


def register_blueprints(app) -> None:
    """Register every area's blueprint, with the id and input guards and the form field
    they all share."""
    ids.init_app(app)
    input_guard.init_app(app)
    forms.init_app(app)
    for module_name in BLUEPRINTS:
        module = import_module(module_name)
        app.register_blueprint(module.bp)

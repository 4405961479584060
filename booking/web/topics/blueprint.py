"""The `topics` blueprint object, which the view modules of booking.web.topics register
their routes on (kept apart from the package so they need not import it back)."""

from flask import Blueprint

from booking.web.topics.jsonld import workshop_jsonld

bp = Blueprint("topics", __name__)
bp.add_app_template_global(workshop_jsonld, "workshop_jsonld")

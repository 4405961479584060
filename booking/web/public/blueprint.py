"""The `public` blueprint object, which the view modules of booking.web.public register
their routes on (kept apart from the package so they need not import it back)."""

from flask import Blueprint

from booking.services.catalogue.search import instructor_name

bp = Blueprint("public", __name__)
bp.add_app_template_global(instructor_name, "instructor_name")

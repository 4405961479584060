"""Topic pages (/topics/<slug>): what a class for a particular need is like, and its classes."""

from flask import Blueprint

from booking.errors import error_response
from booking.services.errors import DomainError
from booking.web.topics.jsonld import workshop_jsonld

bp = Blueprint("topics", __name__)
bp.add_app_template_global(workshop_jsonld, "workshop_jsonld")


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    """A refused request as a friendly error page with its status."""
    return error_response(exc.status, exc.message, exc.code, exc.fields)


from booking.web.topics import views  # noqa: E402,F401

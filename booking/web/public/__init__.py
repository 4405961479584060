"""The public catalogue: home, class search, class, centre and instructor pages."""

from flask import Blueprint

from booking.errors import error_response
from booking.services.catalogue.search import instructor_name
from booking.services.errors import DomainError

bp = Blueprint("public", __name__)
bp.add_app_template_global(instructor_name, "instructor_name")


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    """A refused request as a friendly error page with its status."""
    return error_response(exc.status, exc.message, exc.code, exc.fields)


from booking.web.public import views  # noqa: E402,F401

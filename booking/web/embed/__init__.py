"""Embeddable pages: a centre's schedule for its own website to show in an iframe."""

from flask import Blueprint

from booking.errors import error_response
from booking.services.errors import DomainError

bp = Blueprint("embed", __name__, url_prefix="/embed")


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    """An unknown or hidden centre as the usual error page (never framable)."""
    return error_response(exc.status, exc.message, exc.code, exc.fields)


from booking.web.embed import views  # noqa: E402,F401

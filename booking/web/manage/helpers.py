"""Small helpers shared by the back-office views."""

from flask import flash

from booking.services.errors import DomainError


def put_errors_on_form(form, error: DomainError, aliases: dict | None = None) -> None:
    """Show a domain error next to the fields it names, or at the top of the form."""
    aliases = aliases or {}
    placed = False
    for name, message in (error.fields or {}).items():
        target = aliases.get(name, name)
        if target in form:
            form[target].errors = [*form[target].errors, message]
            placed = True
    if not placed:
        flash(error.message, "error")


def status_for(error: DomainError) -> int:
    """The 4xx status a refused form answers with."""
    return error.status if 400 <= error.status < 500 else 422

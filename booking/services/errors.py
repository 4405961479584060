"""Named domain errors that the web layer turns into messages and 4xx statuses."""


class DomainError(Exception):
    """A rule of the product refused the request."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        # More about the refusal for the API's error body (for example the sessions a
        # change clashes with), beside code, message and fields.
        self.details: dict = {}


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Invalid(DomainError):
    status = 422
    code = "invalid"


class CapacityRefused(Invalid):
    """A workshop's capacity cannot be lowered that far: people already hold those seats.

    The pages answer 422 like any refused form; the staff API answers 409 (the
    request is well formed but clashes with the bookings)."""

    code = "capacity_refused"

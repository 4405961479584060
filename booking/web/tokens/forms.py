"""API token forms."""

from wtforms import StringField
from wtforms.validators import Length

from booking.services.accounts.api_tokens import NAME_MAX
from booking.web.forms import Form


def strip(value):
    """Leading and trailing spaces are never meant."""
    return value.strip() if isinstance(value, str) else value


class CreateTokenForm(Form):
    """A new token, named after what will use it."""

    name = StringField(
        "Name",
        filters=[strip],
        validators=[Length(max=NAME_MAX, message=f"Use at most {NAME_MAX} characters.")],
    )


class RevokeTokenForm(Form):
    """Revoke a token (the form carries only the CSRF token)."""

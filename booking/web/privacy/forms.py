"""The account deletion form."""

from wtforms import PasswordField
from wtforms.validators import DataRequired, InputRequired, Length

from booking.web.forms import Checkbox, Form


class DeleteAccountForm(Form):
    """Delete my account: the password again, and an explicit confirmation."""

    password = PasswordField(
        "Your current password",
        validators=[
            InputRequired(message="Enter your current password to confirm it is you."),
            Length(max=200),
        ],
    )
    confirm = Checkbox(
        "I understand that my account, my babies' details and my bookings will be erased, "
        "and that this cannot be undone",
        validators=[DataRequired(message="Tick the box to confirm you want to delete everything.")],
    )

"""Instructor forms."""

from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from booking.services.teaching.messages import BODY_MAX, SUBJECT_MAX
from booking.web.forms import Checkbox, Form, strip
from booking.web.ids import IdField


class AttendanceForm(Form):
    """The register's marks; one `attendance-<registration id>` radio group per baby."""


class CheckInForm(Form):
    """One tap on "Today": this baby (a confirmed booking) is here."""

    registration_id = IdField(validators=[InputRequired("Choose a baby to check in.")])


class AllPresentForm(Form):
    """"All present" on "Today": only the CSRF token."""


class MessageForm(Form):
    """An email to everyone booked on a workshop."""

    subject = StringField(
        "Subject",
        filters=[strip],
        validators=[DataRequired("Enter a subject."), Length(max=SUBJECT_MAX)],
    )
    body = TextAreaField(
        "Message",
        filters=[strip],
        validators=[DataRequired("Enter a message."), Length(max=BODY_MAX)],
    )
    include_waiting = Checkbox("Also send it to parents on the waiting list")
    # One token per form shown (messages.new_form_token): sent twice, it is sent once.
    form_token = HiddenField()



"""Forms for babies, booking, cancelling, health answers and the parent's details."""

from datetime import datetime

from wtforms import DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from booking.models.workshop import PAY_DEPOSIT
from booking.services.payments.money import format_money
from booking.web.forms import Checkbox, Form
from booking.web.ids import parse_id

DATE_MESSAGE = "Enter the date as YYYY-MM-DD, for example 2025-03-14."
DOB_MISSING = "Enter your baby's date of birth."
DUE_DATE_HINT = (
    "Only if your baby was born 3 or more weeks early: ages are then counted from the due "
    "date."
)
PHONE_LABEL = "Contact phone number (optional)"
PHONE_HINT = (
    "The instructor may call it on the day of a class, for example if a session has to "
    "move. It is used for nothing else."
)


def strip(value):
    """Leading and trailing spaces are never meant."""
    return value.strip() if isinstance(value, str) else value


class IsoDateField(DateField):
    """A YYYY-MM-DD date (a date picker on phones) with a plain-words error."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format="%Y-%m-%d", **kwargs)

    def process_formdata(self, valuelist):
        """Parse the date, or keep the raw text and say what is expected."""
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = datetime.strptime(valuelist[0].strip(), "%Y-%m-%d").date()
        except ValueError as exc:
            self.data = None
            raise ValueError(DATE_MESSAGE) from exc


class BabyForm(Form):
    """A baby's first name (or nickname) and date of birth."""

    name = StringField(
        "First name or nickname",
        filters=[strip],
        validators=[
            DataRequired(message="Enter your baby's first name or a nickname."),
            Length(max=80, message="Use at most 80 characters."),
        ],
    )
    date_of_birth = IsoDateField(
        "Date of birth", validators=[InputRequired(message=DATE_MESSAGE)]
    )
    due_date = IsoDateField(
        "Due date (optional)", validators=[Optional()], description=DUE_DATE_HINT
    )


class BookForm(Form):
    """Book a place: one of the parent's babies, or a new baby; consent; referral code."""

    baby_id = StringField("Which baby?", filters=[strip])
    baby_name = StringField(
        "New baby's first name or nickname",
        filters=[strip],
        validators=[Optional(), Length(max=80, message="Use at most 80 characters.")],
    )
    baby_dob = IsoDateField("New baby's date of birth", validators=[Optional()])
    baby_due_date = IsoDateField(
        "New baby's due date (optional)", validators=[Optional()], description=DUE_DATE_HINT
    )
    consent = Checkbox(
        "I have read the health and safety note and will tell the instructor about any "
        "health concerns.",
        validators=[
            DataRequired(message="Please confirm you have read the health and safety note.")
        ],
    )
    referral_code = StringField(
        "Referral code (if a health visitor or family worker gave you one)",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=40, message="A referral code is at most 40 characters."),
        ],
    )
    # Offered only while the account has no phone number; checked by the contact service.
    phone = StringField(PHONE_LABEL, filters=[strip], description=PHONE_HINT)
    # Sent by the referral box's own button: booking with a code, so one must be typed.
    use_referral = StringField(filters=[strip])
    # The fingerprint of the health-and-safety note the page showed beside the consent.
    note_seen = HiddenField()

    @property
    def wants_new_baby(self) -> bool:
        """No existing baby chosen: the new-baby fields apply."""
        return self.baby_id.data in (None, "", "new")

    def validate(self, extra_validators=None) -> bool:
        """The field checks, then: an existing baby's id, or a new baby's name and date."""
        ok = super().validate(extra_validators)
        if self.wants_new_baby:
            if not self.baby_name.data and not self.baby_name.errors:
                self.baby_name.errors.append("Enter your baby's first name or a nickname.")
                ok = False
            if self.baby_dob.data is None and not self.baby_dob.errors:
                self.baby_dob.errors.append(DOB_MISSING)
                ok = False
        elif parse_id(self.baby_id.data) is None:
            self.baby_id.errors.append("Choose one of your babies, or add a new one.")
            ok = False
        if self.use_referral.data and not self.referral_code.data:
            if not self.referral_code.errors:
                self.referral_code.errors.append(
                    "Type the referral code you were given, or book without one."
                )
            ok = False
        return ok

    def submit_label(self, panel) -> str:
        """The button says what pressing it does, for the booking panel's state: use the
        referral code typed, join the waiting list, book and pay online, or book."""
        if self.referral_code.data and panel.workshop.held_unclaimed:
            return "Use referral code"
        if panel.is_full:
            return "Join the waiting list"
        if panel.payment is not None and panel.payment.pays_online:
            workshop = panel.workshop
            amount = format_money(workshop.online_amount, workshop.centre.currency)
            if panel.payment.mode == PAY_DEPOSIT:
                return f"Book and pay the {amount} deposit"
            return f"Book and pay {amount}"
        return "Book a place"


class HealthAnswersForm(Form):
    """The health questionnaire's fixed fields. The questions themselves (radios
    `q-<key>` and details `q-<key>-details`) come from the centre's form and are
    checked by the health service, which names each field that needs a change."""

    other = TextAreaField("Anything else the instructor should know (optional)")
    consent = Checkbox("I agree")
    # "confirm": the one-tap "Nothing has changed"; empty for the full questionnaire.
    action = HiddenField()
    # The version of the questions and note the page showed (`Form.consent_key`).
    form_seen = HiddenField()


class DetailsForm(Form):
    """The parent's contact phone number; empty removes it."""

    phone = StringField("Contact phone number", filters=[strip])


class ConfirmForm(Form):
    """A button-only form (cancel, remove): just the CSRF token."""


class PayForm(Form):
    """The pay page's form: only the card id Stripe.js made in the browser."""

    payment_method = StringField(
        "Card", validators=[DataRequired("Enter your card details."), Length(max=255)]
    )

"""Back-office forms about money. The payment services judge every value (amount,
reason) and name the field of each message."""

from wtforms import HiddenField, StringField, TextAreaField

from booking.services.payments.staff import MAX_REASON
from booking.web.forms import Form
from booking.web.manage.forms import strip


class RefundForm(Form):
    """A refund by hand: how much, in major units, and why."""

    amount = StringField("Amount to refund", filters=[strip])
    refunds_seen = HiddenField()  # how many refunds the page listed (see refund_by_hand)
    reason = TextAreaField(
        "Reason (sent to the parent)", filters=[strip], render_kw={"maxlength": MAX_REASON}
    )

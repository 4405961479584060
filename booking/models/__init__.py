"""The domain model, one module per aggregate."""

from booking.models.base import Base, UTCDateTime, utcnow
from booking.models.centre import Centre
from booking.models.geocode import PlaceAnswer
from booking.models.health import HealthConsent, HealthForm, HealthRecord, SessionReadiness
from booking.models.idempotency import IdempotencyRecord
from booking.models.invitation import Invitation
from booking.models.learning import Evaluation, PracticeSheet
from booking.models.makeup import Absence, MakeupBooking, MakeupCredit
from booking.models.outbox import OutboxMessage
from booking.models.payment import Payment, Refund, StripeEvent
from booking.models.people import Baby, InstructorProfile, Membership, User
from booking.models.referral import ReferralCode
from booking.models.registration import Attendance, Registration
from booking.models.revision import CatalogueRevision
from booking.models.token import ApiToken, PasswordResetToken
from booking.models.workshop import Workshop, WorkshopSession, workshop_topic

__all__ = [
    "Absence",
    "ApiToken",
    "Attendance",
    "Baby",
    "Base",
    "CatalogueRevision",
    "Centre",
    "Evaluation",
    "HealthConsent",
    "HealthForm",
    "HealthRecord",
    "IdempotencyRecord",
    "InstructorProfile",
    "Invitation",
    "MakeupBooking",
    "MakeupCredit",
    "Membership",
    "OutboxMessage",
    "PasswordResetToken",
    "PlaceAnswer",
    "Payment",
    "PracticeSheet",
    "ReferralCode",
    "Refund",
    "Registration",
    "SessionReadiness",
    "StripeEvent",
    "User",
    "UTCDateTime",
    "Workshop",
    "WorkshopSession",
    "utcnow",
    "workshop_topic",
]

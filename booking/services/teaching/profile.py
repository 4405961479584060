"""An instructor's public profile: the name parents see, their qualification and a few
words about them (`/instructors/<id>`), written by the instructor."""

from dataclasses import dataclass

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import InstructorProfile, User
from booking.services.errors import Invalid, NotFound
from booking.services.schedule import fields as rules

DISPLAY_NAME_MAX = 120
QUALIFICATION_MAX = 200
BIO_MAX = 3000


@dataclass(frozen=True)
class ProfileText:
    """What the profile says, as its form shows it."""

    display_name: str
    qualification: str
    bio: str


def profile_text(user_id: int) -> ProfileText:
    """The instructor's profile as it stands (their account's name until they write one)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("We could not find that instructor.")
    profile = db.session.scalar(
        sa.select(InstructorProfile).where(InstructorProfile.user_id == user_id)
    )
    if profile is None:
        return ProfileText(user.name, "", "")
    return ProfileText(profile.display_name or user.name, profile.qualification, profile.bio)


def save_profile(user_id: int, *, display_name, qualification, bio) -> ProfileText:
    """Check and save the instructor's profile (creating it if needed): the name shown
    (one line, required), the qualification (one line) and the bio (paragraphs split by
    a blank line); Invalid with a message per field, saving nothing."""
    errors: dict[str, str] = {}
    clean = {}
    for name, value, label, limit, required, multiline in (
        ("display_name", display_name, "Name shown to families", DISPLAY_NAME_MAX, True,
         False),
        ("qualification", qualification, "Qualification", QUALIFICATION_MAX, False, False),
        ("bio", bio, "About you", BIO_MAX, False, True),
    ):
        try:
            clean[name] = rules.text(value, label=label, limit=limit, required=required,
                                     multiline=multiline)
        except rules.FieldError as exc:
            errors[name] = str(exc)
    if errors:
        raise Invalid("Some details need correcting.", errors)
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise NotFound("We could not find that instructor.")
        profile = db.session.scalar(
            sa.select(InstructorProfile).where(InstructorProfile.user_id == user_id)
        )
        if profile is None:
            profile = InstructorProfile(user_id=user_id, display_name=user.name)
            db.session.add(profile)
        profile.display_name = clean["display_name"]
        profile.qualification = clean["qualification"]
        profile.bio = clean["bio"]
    return ProfileText(**clean)

"""Emails to instructors when a class is given to another of them.

The new instructor is told the class is now theirs (its sessions in the centre's zone,
who is booked, the link to its roster); the one before is told it is no longer theirs
and who takes it. Both are notes written in the change's transaction and rendered here
after it committed (`booking.mail.deferred`), from the plain data the service loaded.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from booking.calendar.data import PersonData, WorkshopData
from booking.mail.context import can_email, workshop_info
from booking.mail.deferred import Rendered
from booking.mail.outbox import absolute_url, fill_email


@dataclass(frozen=True)
class Booked:
    """Who is booked on a class, as its new instructor's email counts them."""

    families: int  # parents with a confirmed place (twins' parents once)
    places: int  # confirmed places (one per baby)
    waiting: int  # babies on the waiting list
    holding: int = 0  # places held while families pay (not yet confirmed)


def _class(workshop: WorkshopData) -> str:
    return f"{workshop.title} at {workshop.centre.name}"


def render_instructor_assigned(
    workshop: WorkshopData, teacher: PersonData | None, teacher_name: str, *,
    booked: Booked, previous_name: str = "",
) -> Rendered | None:
    """Tell `teacher` (shown as `teacher_name`) that they now teach the class, taking
    over from `previous_name` when it had an instructor: its sessions in the centre's
    local time, how many families are booked, and the link to its roster. None: the
    account takes no email."""
    if not can_email(teacher):
        return None
    info = workshop_info(workshop)
    return fill_email(
        Rendered(), "instructor_assigned", f"You now teach {_class(workshop)}",
        centre=workshop.centre, info=info, teacher_name=teacher_name,
        previous_name=previous_name, booked=booked,
        roster_url=absolute_url(f"/teach/workshops/{workshop.id}"),
        feed_url=absolute_url("/account/calendar"),
    )


def render_instructor_released(
    workshop: WorkshopData, former: PersonData | None, former_name: str,
) -> Rendered | None:
    """Tell `former` (shown as `former_name`) that the class is no longer theirs, who
    teaches it now (`workshop`'s instructor, if it has one) and the sessions still to
    come that it frees in their diary. None: the account takes no email."""
    if not can_email(former):
        return None
    info = workshop_info(workshop)
    successor = workshop.instructor_name if workshop.instructor is not None else ""
    now = datetime.now(UTC)
    ahead = {s.id for s in workshop.sessions if not s.is_cancelled and s.starts_at > now}
    return fill_email(
        Rendered(), "instructor_released", f"No longer yours to teach: {_class(workshop)}",
        centre=workshop.centre, info=info, former_name=former_name, successor=successor,
        freed=[line for line in info.sessions if line.id in ahead],
    )

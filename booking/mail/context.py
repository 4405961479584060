"""What an email about a booking shows, built from the plain data a use case loaded.

Nothing here reads the database: the use case hands over `BookingData` and
`WorkshopData` (see `booking.calendar.data`), and everything it decided beyond
them (classes to offer instead, doll days), and gets back objects the templates
read as they are.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from booking import timefmt
from booking.calendar.data import (
    BabyData,
    BookingData,
    CentreData,
    PersonData,
    SessionData,
    WorkshopData,
)
from booking.mail.outbox import absolute_url
from booking.models import PracticeSheet
from booking.templating import format_price

# How a class is paid for (PRODUCT.md): free, at the centre, online, or a deposit online
# and the rest at the centre.
FREE, AT_CENTRE, ONLINE, DEPOSIT = "free", "at_centre", "online", "deposit"

# Why a baby watches while the parent practises on a doll, as far as an email may say:
# immunisations, or (a health answer, never named outside the class) just "a doll".
IMMUNISATIONS, DOLL = "immunisations", "doll"


@dataclass(frozen=True)
class SessionLine:
    """One session as an email shows it, in the centre's zone with the zone named."""

    id: int
    number: int
    total: int
    when: str
    date: str
    room: str
    cancelled: bool
    is_course: bool

    @property
    def label(self) -> str:
        """'Week 2 of 5' for a course, 'Session' for a single class."""
        if self.is_course and self.total > 1:
            return f"Week {self.number} of {self.total}"
        return "Session"


@dataclass
class WorkshopInfo:
    """A workshop, its centre, its sessions and its instructor, ready to show."""

    workshop: WorkshopData
    centre: CentreData
    sessions: list[SessionLine]
    instructor: PersonData | None
    instructor_name: str
    class_url: str
    zone_note: str
    first: SessionLine | None = None
    payment: str = ""

    @property
    def starts(self) -> str:
        """When the first session that will run starts ('' if none will)."""
        return self.first.when if self.first else ""


@dataclass
class BookingInfo:
    """A registration with everything an email about it shows."""

    registration: BookingData
    info: WorkshopInfo
    parent: PersonData | None
    baby: BabyData | None
    bookings_url: str
    invite_url: str
    extra: dict = field(default_factory=dict)

    @property
    def baby_name(self) -> str:
        """The baby's name, or a neutral word when the baby has been removed."""
        return self.baby.name if self.baby is not None else "your baby"

    @property
    def greeting_name(self) -> str:
        """The parent's name for 'Dear ...'."""
        return self.parent.name if self.parent is not None else "there"


@dataclass(frozen=True)
class ReadyLink:
    """A reminder's "Ready for <day>?" link for one session: the weekday in the centre's
    zone, the absolute link, and `doll` (IMMUNISATIONS, DOLL or '') when the baby comes
    to watch and the parent practises on a doll that session."""

    day: str
    url: str
    session_id: int
    doll: str = ""


def payment_text(mode: str, price, currency: str, deposit=None) -> str:
    """What a parent pays and how, with amounts in the centre's currency (Babel):
    'Free: there is nothing to pay.' or 'Pay £45.00 at the centre.'"""
    if mode == FREE or not price:
        return "Free: there is nothing to pay."
    amount = format_price(price, currency)
    if mode == ONLINE:
        return f"{amount}, paid online by card when booking."
    if mode == DEPOSIT and deposit and 0 < deposit < price:
        return (
            f"{amount}: a deposit of {format_price(deposit, currency)} paid online by card "
            f"when booking, and {format_price(price - deposit, currency)} to pay at the centre."
        )
    return f"Pay {amount} at the centre."


def workshop_payment_mode(workshop: WorkshopData) -> str:
    """A workshop's payment mode: free without a price, otherwise the one staff chose."""
    return FREE if not workshop.price else (workshop.payment_mode or AT_CENTRE)


def describe_session(session: SessionData, centre: CentreData, total: int, is_course: bool):
    """A session's line: 'Tue 1 Dec 2026, 10:00-11:00 GMT' in the centre's zone."""
    tz = centre.timezone
    return SessionLine(
        id=session.id,
        number=session.number,
        total=total,
        when=timefmt.format_time_range(session.starts_at, session.ends_at, tz, with_day=True),
        date=timefmt.format_local_date(session.starts_at, tz),
        room=session.room or "",
        cancelled=session.is_cancelled,
        is_course=is_course,
    )


def session_line(info: WorkshopInfo, session_id: int) -> SessionLine | None:
    """The line of one of the workshop's sessions, as the email lists it."""
    return next((line for line in info.sessions if line.id == session_id), None)


def workshop_info(workshop: WorkshopData) -> WorkshopInfo:
    """A workshop's centre, sessions and instructor, ready for an email."""
    centre = workshop.centre
    total = len(workshop.sessions)
    lines = [describe_session(s, centre, total, workshop.is_course) for s in workshop.sessions]
    first = next((line for line in lines if not line.cancelled), None)
    return WorkshopInfo(
        workshop=workshop,
        centre=centre,
        sessions=lines,
        instructor=workshop.instructor,
        instructor_name=workshop.instructor_name,
        class_url=absolute_url(f"/classes/{workshop.id}"),
        zone_note=f"Times are local to {centre.name} ({centre.timezone}).",
        first=first,
        payment=payment_text(
            workshop_payment_mode(workshop),
            workshop.price,
            centre.currency,
            deposit=None if workshop.deposit is None else Decimal(workshop.deposit) / 100,
        ),
    )


def booking_info(booking: BookingData, info: WorkshopInfo | None = None) -> BookingInfo:
    """What an email about one registration shows (`info`: its workshop's, when the
    caller already built it for several bookings)."""
    return BookingInfo(
        registration=booking,
        info=info or workshop_info(booking.workshop),
        parent=booking.parent,
        baby=booking.baby,
        bookings_url=absolute_url("/account/bookings"),
        invite_url=absolute_url(f"/account/bookings/{booking.id}/invite.ics"),
    )


def can_email(person: PersonData | None) -> bool:
    """Only live accounts with an address get email."""
    return person is not None and person.can_email


# Home-practice sheets (booking.services.plans.practice) -------------------------------


@dataclass(frozen=True)
class PracticeCare:
    """What every home-practice sheet says, whatever the week: when not to massage, the
    cues that mean stop, the oil, and how long."""

    when_not: tuple[str, ...]
    stop_cues: tuple[str, ...]
    stop_note: str
    oil: str
    how_long: str


PRACTICE_CARE = PracticeCare(
    when_not=(
        "Within an hour of a feed: give the milk time to settle first.",
        "While your baby is asleep: massage is something you do together, awake.",
        "When your baby is unwell or feverish: a cuddle is better that day.",
        "For 48 hours after immunisations: hold them close instead, and start again after.",
        "Over broken skin, a rash or a sore spot: leave that part out until it has healed.",
    ),
    stop_cues=(
        "turning their head away from you",
        "arching their back",
        "crying or fussing",
        "stiffening their arms or legs",
        "looking away and not meeting your eyes",
    ),
    stop_note=(
        "Stop, and rest your hands still and warm on your baby, or pick them up for a "
        "cuddle. Try again another day: a few calm minutes are worth more than a whole "
        "routine."
    ),
    oil=(
        "Use the plant oil your instructor suggested: plain, with no nut oils and no "
        "fragrance. Warm a little between your hands before you start."
    ),
    how_long=(
        "A few calm minutes are enough to start with (the week's practice may say "
        "more): build up a little at a time as your baby comes to enjoy it, and stop "
        "whenever they have had enough."
    ),
)


@dataclass(frozen=True)
class TextBlock:
    """A paragraph, or a list when every line of the block starts with '- '."""

    lines: tuple[str, ...]
    is_list: bool = False


def text_blocks(text: str) -> tuple[TextBlock, ...]:
    """A plan's text as blocks: blank lines part paragraphs, and a block whose lines
    all start with '- ' (or '* ') is a list of those lines."""
    blocks = []
    for chunk in (text or "").replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        if all(line[:2] in ("- ", "* ") for line in lines):
            blocks.append(TextBlock(tuple(line[2:].strip() for line in lines), True))
        else:
            blocks.append(TextBlock((" ".join(lines),)))
    return tuple(blocks)


def week_topic(title: str) -> str:
    """A plan title without its 'Week 2:' at the front ('tummy, for wind and colic')."""
    head, colon, rest = title.partition(":")
    words = head.split()
    if colon and rest.strip() and len(words) == 2 and words[0].lower() == "week" and (
        words[1].isdigit()
    ):
        return rest.strip()
    return title.strip()


@dataclass(frozen=True)
class PracticeSheetInfo:
    """One home-practice sheet as the page and the email show it."""

    id: int
    workshop_title: str
    centre_name: str
    week_number: int
    weeks: int
    day: str  # 'Tuesday 2 Jun 2026', the session's day at the centre
    title: str
    covers: tuple[TextBlock, ...]
    practice: tuple[TextBlock, ...]
    next_title: str
    path: str  # '/account/practice/<id>'
    url: str  # the same, absolute, for emails
    made_up: bool = False
    care: PracticeCare = PRACTICE_CARE
    # The week's words fit one A4 page with the care notes (`ONE_PAGE_CHARACTERS`).
    fits_one_page: bool = True

    @property
    def week_label(self) -> str:
        """'Week 2 of 5' for a course, '' for a single class."""
        return f"Week {self.week_number} of {self.weeks}" if self.weeks > 1 else ""

    @property
    def topic(self) -> str:
        """The week's title without its 'Week 2:' ('tummy, for wind and colic')."""
        return week_topic(self.title)

    @property
    def heading(self) -> str:
        """'Week 2 at home: tummy, for wind and colic' (the email's subject too)."""
        if self.weeks > 1:
            return f"Week {self.week_number} at home: {self.topic}"
        return f"At home: {self.topic}"

    @property
    def next_topic(self) -> str:
        """Next week's title without its 'Week 3:' ('' after the last week)."""
        return week_topic(self.next_title) if self.next_title else ""

    @property
    def next_line(self) -> str:
        """Next week's title as a sentence ('Chest and arms.'), '' after the last week."""
        topic = self.next_topic
        if not topic:
            return ""
        return topic[:1].upper() + topic[1:] + ("" if topic.endswith(".") else ".")

    @property
    def last_week(self) -> bool:
        """Whether this was the last week of a course, with nothing after it."""
        return self.weeks > 1 and self.week_number >= self.weeks and not self.next_title


# What the print stylesheet fits on one A4 page beside the care notes and the next week:
# every template's week (at most about 1,300 characters), and instructors' plans up to
# about this many; a longer plan runs onto a second page or more.
ONE_PAGE_CHARACTERS = 2000


def practice_sheet_info(sheet: PracticeSheet) -> PracticeSheetInfo:
    """A stored sheet (its columns only, as it was sent) ready for the page or an email."""
    path = f"/account/practice/{sheet.id}"
    day = sheet.session_day
    return PracticeSheetInfo(
        id=sheet.id,
        workshop_title=sheet.workshop_title,
        centre_name=sheet.centre_name or "",
        week_number=sheet.week_number,
        weeks=sheet.weeks or 1,
        day=f"{day:%A} {timefmt.format_day(day)}",
        title=sheet.title,
        covers=text_blocks(sheet.covers),
        practice=text_blocks(sheet.practice),
        next_title=sheet.next_title or "",
        path=path,
        url=absolute_url(path),
        made_up=(sheet.dedupe_key or "").startswith("practice:makeup:"),
        fits_one_page=len(sheet.covers or "") + len(sheet.practice or "") <= ONE_PAGE_CHARACTERS,
    )

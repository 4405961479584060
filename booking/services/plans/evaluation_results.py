"""What course evaluations say: figures per course and per instructor, the centre's CSV
for commissioners, and the quotes families agreed to show publicly.

Figures are computed by the database over the evaluations asked: families asked,
answered, the response rate, and the average confidence before, after and gained
(over the answers). What families wrote about what helped is personal, if not health
data: the words they did not agree to publish are seen only by the instructor of that
course and the staff of its centre (not by an admin who is neither); public pages show
only consented words, never a name.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from babel.dates import format_date

from booking.extensions import db
from booking.models import Centre, Evaluation, InstructorProfile, User, Workshop
from booking.models.people import ROLE_STAFF
from booking.models.workshop import CANCELLED
from booking.services.accounts.access import managed_centre_ids, taught_by, teaches
from booking.services.errors import NotFound
from booking.services.teaching.roster import csv_cell
from booking.timefmt import LOCALE, to_local

QUOTES_SHOWN = 5
FORMER_INSTRUCTOR = "No instructor"


@dataclass(frozen=True)
class Figures:
    """Families asked and answered, and the average confidence (1-5) before, after and
    gained, over the answers (None while nobody has answered)."""

    asked: int = 0
    answered: int = 0
    before: float | None = None
    after: float | None = None
    gain: float | None = None

    @property
    def response_rate(self) -> float | None:
        """Answered out of asked, from 0 to 1 (None when nobody was asked)."""
        return self.answered / self.asked if self.asked else None

    @property
    def rate_text(self) -> str:
        """'75%', or an en dash when nobody was asked."""
        rate = self.response_rate
        return "\u2013" if rate is None else f"{rate * 100:.0f}%"

    @property
    def before_text(self) -> str:
        """'2.4', or an en dash before any answer."""
        return _one_place(self.before)

    @property
    def after_text(self) -> str:
        """'4.3', or an en dash before any answer."""
        return _one_place(self.after)

    @property
    def gain_text(self) -> str:
        """'+1.9' (signed), or an en dash before any answer."""
        if self.gain is None:
            return "\u2013"
        return f"{self.gain:+.1f}"


def _one_place(value: float | None) -> str:
    """A figure to one decimal place, or an en dash when there is none."""
    return "\u2013" if value is None else f"{value:.1f}"


def _number(value) -> float | None:
    """An average as the database gives it (Decimal on PostgreSQL) as a float."""
    return None if value is None else float(value)


@dataclass(frozen=True)
class Words:
    """What one family said helped most, and whether they let it be shown publicly."""

    text: str
    public: bool
    answered_at: datetime


@dataclass
class CourseResult:
    """One course's evaluation figures, and the words the viewer may read."""

    workshop: Workshop
    centre: Centre
    instructor_name: str
    figures: Figures
    words: list[Words] = field(default_factory=list)
    private_words: bool = False  # whether the viewer sees words not consented

    @property
    def first_day(self) -> date | None:
        """The day of the first session, at the centre."""
        start = self.workshop.first_starts_at
        return to_local(start, self.centre.timezone).date() if start else None

    @property
    def last_day(self) -> date | None:
        """The day of the last session, at the centre."""
        end = self.workshop.last_ends_at
        return to_local(end, self.centre.timezone).date() if end else None


@dataclass(frozen=True)
class InstructorResult:
    """One instructor's figures over their courses (at one centre, on the staff page)."""

    instructor_id: int | None
    name: str
    courses: int
    figures: Figures


@dataclass
class CentreResults:
    """A centre's evaluations: per course, per instructor, and all together."""

    centre: Centre
    courses: list[CourseResult]
    instructors: list[InstructorResult]
    totals: Figures


def _aggregates():
    """SQL: asked, answered and the average confidence before, after and gained."""
    return (
        sa.func.count(Evaluation.id),
        sa.func.count(Evaluation.answered_at),
        sa.func.avg(Evaluation.confidence_before),
        sa.func.avg(Evaluation.confidence_after),
        sa.func.avg(Evaluation.confidence_after - Evaluation.confidence_before),
    )


def _figures(row) -> Figures:
    """One row of `_aggregates()` as Figures."""
    asked, answered, before, after, gain = row
    return Figures(asked or 0, answered or 0, _number(before), _number(after), _number(gain))


def _figures_by(key, *conditions) -> dict:
    """Figures grouped by `key` (a column of Workshop or Evaluation), one query."""
    rows = db.session.execute(
        sa.select(key, *_aggregates())
        .join(Workshop, Workshop.id == Evaluation.workshop_id)
        .where(*conditions)
        .group_by(key)
    ).all()
    return {row[0]: _figures(row[1:]) for row in rows}


def _totals(*conditions) -> Figures:
    """The figures over every evaluation of the workshops matching `conditions`."""
    row = db.session.execute(
        sa.select(*_aggregates())
        .join(Workshop, Workshop.id == Evaluation.workshop_id)
        .where(*conditions)
    ).one()
    return _figures(row)


def _instructor_names(user_ids) -> dict[int, str]:
    """The name parents see for each instructor: the profile's display name, else the
    account's name."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(User.id, User.name, InstructorProfile.display_name)
        .outerjoin(InstructorProfile, InstructorProfile.user_id == User.id)
        .where(User.id.in_(ids))
    ).all()
    return {user_id: display or name for user_id, name, display in rows}


def _sees_private_words(viewer: User | None, workshop: Workshop) -> bool:
    """The course's instructor and its centre's staff read every family's words."""
    if viewer is None:
        return False
    return teaches(viewer, workshop) or workshop.centre_id in viewer.centre_ids(ROLE_STAFF)


def _words_by_workshop(workshop_ids: list[int]) -> dict[int, list[Words]]:
    """Every answered family's words about these workshops, newest first, by workshop."""
    if not workshop_ids:
        return {}
    rows = db.session.execute(
        sa.select(Evaluation.workshop_id, Evaluation.helped, Evaluation.public,
                  Evaluation.answered_at)
        .where(
            Evaluation.workshop_id.in_(workshop_ids),
            Evaluation.answered_at.is_not(None),
            Evaluation.helped != "",
        )
        .order_by(Evaluation.answered_at.desc(), Evaluation.id.desc())
    ).all()
    found: dict[int, list[Words]] = {}
    for workshop_id, text, public, answered_at in rows:
        found.setdefault(workshop_id, []).append(Words(text, bool(public), answered_at))
    return found


def _course_results(viewer: User | None, *conditions) -> list[CourseResult]:
    """Every workshop matching `conditions` whose families were asked, most recent
    first, with its figures and the words `viewer` may read (None: consented ones)."""
    figures = _figures_by(Evaluation.workshop_id, *conditions)
    if not figures:
        return []
    rows = db.session.execute(
        sa.select(Workshop, Centre)
        .join(Centre, Centre.id == Workshop.centre_id)
        .where(Workshop.id.in_(list(figures)))
        .order_by(Workshop.last_ends_at.desc(), Workshop.id.desc())
    ).all()
    names = _instructor_names(w.instructor_id for w, _ in rows)
    words = _words_by_workshop([w.id for w, _ in rows])
    results = []
    for workshop, centre in rows:
        private = _sees_private_words(viewer, workshop)
        results.append(
            CourseResult(
                workshop=workshop,
                centre=centre,
                instructor_name=names.get(workshop.instructor_id, FORMER_INSTRUCTOR),
                figures=figures[workshop.id],
                words=[w for w in words.get(workshop.id, []) if private or w.public],
                private_words=private,
            )
        )
    return results


def instructor_evaluations(viewer: User) -> tuple[list[CourseResult], Figures]:
    """The evaluations of the courses `viewer` leads, with every family's words, and
    the figures over all of them."""
    mine = taught_by(viewer.id)
    return _course_results(viewer, mine), _totals(mine)


def _instructor_results(centre_id: int) -> list[InstructorResult]:
    """The figures of each instructor over their courses at one centre, by name."""
    at_centre = Workshop.centre_id == centre_id
    figures = _figures_by(Workshop.instructor_id, at_centre)
    courses = dict(
        db.session.execute(
            sa.select(Workshop.instructor_id, sa.func.count(sa.distinct(Workshop.id)))
            .join(Evaluation, Evaluation.workshop_id == Workshop.id)
            .where(at_centre)
            .group_by(Workshop.instructor_id)
        ).all()
    )
    names = _instructor_names(figures)
    results = [
        InstructorResult(
            instructor_id, names.get(instructor_id, FORMER_INSTRUCTOR),
            courses.get(instructor_id, 0), result,
        )
        for instructor_id, result in figures.items()
    ]
    results.sort(key=lambda r: (r.name.casefold(), r.instructor_id or 0))
    return results


def centre_results(viewer: User | None, centre: Centre) -> CentreResults:
    """One centre's evaluations per course and per instructor, with the words `viewer`
    may read (None: only those consented for publishing)."""
    at_centre = Workshop.centre_id == centre.id
    return CentreResults(
        centre=centre,
        courses=_course_results(viewer, at_centre),
        instructors=_instructor_results(centre.id),
        totals=_totals(at_centre),
    )


def managed_evaluations(viewer: User) -> list[CentreResults]:
    """The evaluations of every centre `viewer` manages (an admin: every centre), by
    centre name."""
    ids = managed_centre_ids(viewer)
    statement = sa.select(Centre).order_by(Centre.name, Centre.id)
    if ids is not None:
        if not ids:
            return []
        statement = statement.where(Centre.id.in_(ids))
    return [centre_results(viewer, centre) for centre in db.session.scalars(statement)]


# --- the commissioners' CSV -------------------------------------------------------------

CSV_HEADER = [
    "Course",
    "Instructor",
    "First session",
    "Last session",
    "Families asked",
    "Answered",
    "Response rate (%)",
    "Average confidence before (1-5)",
    "Average confidence after (1-5)",
    "Average confidence gained",
]


def _csv_number(value: float | None, places: int = 1) -> str:
    """A figure the product computed, as a plain number ('' when there is none).

    Numbers are not passed through `csv_cell`: they come from the database, never from
    what someone typed, and a spreadsheet must read -0.5 as a number, not as text."""
    return "" if value is None else f"{value:.{places}f}"


def _csv_figures(figures: Figures) -> list[str]:
    """The six figure cells of a CSV row."""
    rate = figures.response_rate
    return [
        str(figures.asked),
        str(figures.answered),
        _csv_number(None if rate is None else rate * 100, 0),
        _csv_number(figures.before),
        _csv_number(figures.after),
        _csv_number(figures.gain),
    ]


def centre_csv(centre_id: int) -> tuple[Centre, str]:
    """A centre's evaluations as CSV for commissioners: a header, one row per course
    (no family's words, no names but the instructors'), then the totals; text cells
    are made safe from spreadsheet formulas."""
    centre = db.session.get(Centre, centre_id)
    if centre is None:
        raise NotFound("We could not find that centre.")
    results = centre_results(None, centre)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for course in results.courses:
        first, last = course.first_day, course.last_day
        writer.writerow(
            [
                csv_cell(course.workshop.title),
                csv_cell(course.instructor_name),
                first.isoformat() if first else "",
                last.isoformat() if last else "",
                *_csv_figures(course.figures),
            ]
        )
    if results.courses:
        writer.writerow(["All courses", "", "", "", *_csv_figures(results.totals)])
    return centre, out.getvalue()


# --- consented quotes on public pages ---------------------------------------------------


@dataclass(frozen=True)
class Quote:
    """Words a family agreed to show publicly, without their name: what course, and
    when it ran."""

    text: str
    course: str
    month: str  # 'March 2027', when the course ended, at its centre
    said_on: date  # the day the family answered (UTC)


def _quotes(*conditions, limit: int = QUOTES_SHOWN) -> list[Quote]:
    """The most recent consented words about workshops matching `conditions`, from
    workshops that ran at published centres."""
    rows = db.session.execute(
        sa.select(Evaluation.helped, Evaluation.answered_at, Workshop.title,
                  Workshop.last_ends_at, Centre.timezone)
        .join(Workshop, Workshop.id == Evaluation.workshop_id)
        .join(Centre, Centre.id == Workshop.centre_id)
        .where(
            Evaluation.public.is_(True),
            Evaluation.answered_at.is_not(None),
            Evaluation.helped != "",
            Workshop.status != CANCELLED,
            Centre.published.is_(True),
            *conditions,
        )
        .order_by(Evaluation.answered_at.desc(), Evaluation.id.desc())
        .limit(limit)
    ).all()
    return [
        Quote(
            text=text,
            course=title,
            month=format_date(to_local(ended or answered_at, tz).date(), "MMMM y",
                              locale=LOCALE),
            said_on=answered_at.date(),
        )
        for text, answered_at, title, ended, tz in rows
    ]


def instructor_quotes(instructor_id: int, limit: int = QUOTES_SHOWN) -> list[Quote]:
    """The most recent words families agreed to show about the instructor's courses."""
    return _quotes(Workshop.instructor_id == instructor_id, limit=limit)


def centre_quotes(centre_id: int, limit: int = QUOTES_SHOWN) -> list[Quote]:
    """The most recent words families agreed to show about the centre's courses."""
    return _quotes(Workshop.centre_id == centre_id, limit=limit)

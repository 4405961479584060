"""The rows of a schedule CSV: each checked by the workshop rules, with every problem
kept by spreadsheet row and column, and the workshops the good rows will create.

booking.services.schedule.imports reads the file and runs the import; this module
judges its rows one by one.
"""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Centre
from booking.services.catalogue.params import SLUG_RE
from booking.services.payments.money import format_money, to_minor
from booking.services.schedule.fields import FieldError, readable
from booking.services.schedule.workshop_input import (
    FIELDS,
    check_workshop,
    instructor_id_for_email,
)
from booking.timefmt import format_local

# create_workshop's keyword -> the CSV column it comes from.
COLUMN_OF = {"centre_id": "centre", "instructor_id": "instructor_email",
              "first_session_local": "first_session"}



@dataclass(frozen=True)
class ScheduleError:
    """One problem in the file, where a spreadsheet shows it (the header is row 1)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class PlannedWorkshop:
    """A row that passed every check: what create_workshop will be called with."""

    row: int
    fields: dict
    centre_slug: str
    centre_name: str
    timezone: str
    instructor_email: str
    first_starts_at: datetime
    workshop_id: int | None = None
    # Each session's (start, end) in UTC, and the instructor's name, to find clashes.
    times: list = field(default_factory=list)
    instructor_name: str = ""
    # An admin hid its centre (once public): published, families still cannot see or
    # book it (a centre never shown is shown with its first class published).
    centre_hidden: bool = False
    # The centre's currency: the price and deposit are in it.
    currency: str = "GBP"

    def describe(self) -> str:
        """One line for a preview: what, where, who, when, how many places."""
        f = self.fields
        sessions = f["sessions"]
        when = format_local(self.first_starts_at, self.timezone)
        plural = "session" if sessions == 1 else "sessions"
        paid = f["payment"].replace("_", " ")
        if f["deposit"] is not None:
            paid += f" {self.money(f['deposit'])}"
        plan = f", plan {f['plan']}" if f.get("plan") else ""
        return (
            f"row {self.row}: {f['kind']} {f['title']!r} at {self.centre_name} "
            f"({self.centre_slug}) with {self.instructor_email}, {sessions} {plural} "
            f"from {when}, {f['capacity']} places, price {self.money(f['price'])} ({paid}){plan}, "
            f"{'published' if f['publish'] else 'draft'}"
        )

    def money(self, amount) -> str:
        """An amount of the row in its centre's currency: '£45.00', 'A$45.00'."""
        return format_money(to_minor(amount), self.currency)


@dataclass
class SchedulePlan:
    """The outcome of reading a file: the workshops to create and every error."""

    rows: list[PlannedWorkshop] = field(default_factory=list)
    errors: list[ScheduleError] = field(default_factory=list)
    # Rooms or instructors already busy (staff may keep both): not errors, but an
    # import stops on them unless told.
    clashes: list[ScheduleError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file has no problem at all."""
        return not self.errors

    def error(self, row: int | None, column: str | None, message: str) -> None:
        """Record a problem."""
        self.errors.append(ScheduleError(row, column, message))


class RowChecker:
    """Checks rows one by one, remembering centres, instructors and earlier rows."""

    def __init__(self, plan: SchedulePlan, names: list[str], allowed: set[int] | None):
        self.plan = plan
        self.names = names
        self.allowed = allowed
        self.centres: dict[str, Centre | None] = {}
        self.users: dict[str, int] = {}
        self.seen: dict[tuple, int] = {}

    def column_order(self, column: str | None) -> int:
        return self.names.index(column) if column in self.names else -1

    def _unreadable_cells(self, row: int, cells: list[str]) -> bool:
        """Report each cell of the row holding a control character, a text-direction
        override or half a character, whatever its column, named or not (a cell of only
        a vertical tab would otherwise read as empty, and the file then be refused at the
        import for the character its preview let through); True when there was one."""
        found = False
        for index, cell in enumerate(cells, start=1):
            # A column the header leaves unnamed, or a value past the header's last.
            name = self.names[index - 1] if index <= len(self.names) else ""
            column = name or f"#{index}"
            try:
                readable(cell, label=f"The {column} value")
            except FieldError as exc:
                self.plan.error(row, column, str(exc))
                found = True
        return found

    def check(self, row: int, record: list[str]) -> None:
        if len(record) > len(self.names) and any(c.strip() for c in record[len(self.names):]):
            self.plan.error(
                row,
                None,
                f"this row has {len(record)} values but the header has {len(self.names)} "
                "columns; put a value that contains a comma in double quotes.",
            )
            return
        padded = record + [""] * (len(self.names) - len(record))
        for index, name in enumerate(self.names):
            if not name and padded[index].strip():
                self.plan.error(
                    row, f"#{index + 1}", "this value is in a column with no name in the header."
                )
                return
        if self._unreadable_cells(row, padded):
            return
        values = dict(zip(self.names, padded, strict=False))
        errors: dict[str, str] = {}
        data: dict = {
            name: values[name] for name in FIELDS if name in values
        }
        data["first_session_local"] = values["first_session"]
        centre = self._centre(values["centre"].strip(), errors)
        if centre is not None:
            data["centre_id"] = centre.id
        instructor_id = self._instructor_id(values["instructor_email"].strip(), errors)
        if instructor_id is not None:
            data["instructor_id"] = instructor_id
        clean, field_errors = check_workshop(data)
        for name, message in field_errors.items():
            column = COLUMN_OF.get(name, name)
            if column in errors:
                continue
            errors[column] = message
        instructor = clean.get("instructor")
        if not errors:
            key = (
                centre.id,
                clean["title"].casefold(),
                clean["times"][0][0],
                instructor.id,
            )
            if key in self.seen:
                errors["title"] = f"the same class as row {self.seen[key]}."
            else:
                self.seen[key] = row
        for column, message in errors.items():
            self.plan.error(row, column, sentence(message))
        if errors:
            return
        self.plan.rows.append(
            PlannedWorkshop(
                row=row,
                fields={name: clean[name] for name in FIELDS},
                centre_slug=centre.slug,
                centre_name=centre.name,
                timezone=centre.timezone,
                instructor_email=instructor.email,
                first_starts_at=clean["times"][0][0],
                times=list(clean["times"]),
                instructor_name=instructor.name,
                centre_hidden=not centre.published and centre.first_published_at is not None,
                currency=centre.currency,
            )
        )

    def _centre(self, slug: str, errors: dict) -> Centre | None:
        if not slug:
            errors["centre"] = "give the centre's slug."
            return None
        if slug not in self.centres:
            # What cannot be a slug names no centre (a NUL would fail the query).
            self.centres[slug] = (
                db.session.scalar(sa.select(Centre).where(Centre.slug == slug))
                if SLUG_RE.match(slug) else None
            )
        centre = self.centres[slug]
        if centre is None:
            errors["centre"] = f"there is no centre with the slug {slug!r}."
        elif self.allowed is not None and centre.id not in self.allowed:
            errors["centre"] = f"you may not add classes at {centre.name}."
            return None
        return centre

    def _instructor_id(self, email: str, errors: dict) -> int | None:
        """The account's id (or NO_ACCOUNT) for check_workshop to judge: an address
        that is not an instructor's at the centre is refused the same way, whether or
        not it has an account."""
        if not email:
            errors["instructor_email"] = "give the instructor's email."
            return None
        key = email.lower()
        if key not in self.users:
            self.users[key] = instructor_id_for_email(key)
        return self.users[key]


def sentence(message: str) -> str:
    """'The price must...' -> 'the price must...', to follow 'row 2, column price:'."""
    if len(message) > 1 and message[0].isupper() and not message[1].isupper():
        return message[0].lower() + message[1:]
    return message

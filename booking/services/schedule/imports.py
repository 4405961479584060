"""The schedule CSV: a term's workshops from a spreadsheet, all or nothing.

`parse_schedule` reads and checks a file without writing anything and returns a plan
(the workshops it would create and every error, by spreadsheet row and column);
`import_schedule` creates the plan's workshops in one transaction, or none of them.
The `import-schedule` command and the staff upload page both use these; each row is
judged in booking.services.schedule.import_rows.
"""

import csv
import io
from dataclasses import dataclass

from booking.db import write_transaction
from booking.services.errors import Invalid
from booking.services.schedule.clashes import Busy, clashes_in_order, lock_schedule, summarise
from booking.services.schedule.create import create_workshop
from booking.services.schedule.import_rows import (
    COLUMN_OF,
    PlannedWorkshop,
    RowChecker,
    ScheduleError,
    SchedulePlan,
    sentence,
)

COLUMNS = (
    "centre",
    "title",
    "kind",
    "instructor_email",
    "first_session",
    "sessions",
    "duration_minutes",
    "capacity",
    "min_age_weeks",
    "max_age_weeks",
    "price",
    "description",
    "publish",
)
OPTIONAL_COLUMNS = (
    "topics",
    "min_places",
    "held_places",
    "late_join_until",
    "payment",
    "deposit",
    "refund_fee",
    "plan",
)
ALL_COLUMNS = COLUMNS + OPTIONAL_COLUMNS
MAX_BYTES = 1_000_000
MAX_ROWS = 500

@dataclass
class ImportResult:
    """What an import did: the plan, and whether its workshops were created."""

    plan: SchedulePlan
    dry_run: bool = False
    created: bool = False

    @property
    def errors(self) -> list[ScheduleError]:
        """Every problem found (nothing was written when there are any)."""
        return self.plan.errors

    @property
    def ok(self) -> bool:
        """True when the file had no problem."""
        return self.plan.ok

    @property
    def rows(self) -> list[PlannedWorkshop]:
        """The planned workshops, in file order."""
        return self.plan.rows

    @property
    def clashes(self) -> list[ScheduleError]:
        """Rooms or instructors already busy at a row's times, by row."""
        return self.plan.clashes

    @property
    def workshop_ids(self) -> list[int]:
        """Ids of the workshops created (empty for a dry run or a failed import)."""
        return [r.workshop_id for r in self.plan.rows if r.workshop_id is not None]


def decode_schedule(data: bytes, plan: SchedulePlan) -> str | None:
    """The file's text (UTF-8, with or without a byte-order mark), or None with an error."""
    if len(data) > MAX_BYTES:
        plan.error(None, None, _too_big())
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        plan.error(
            row,
            None,
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x}). "
            "Save it from your spreadsheet as 'CSV UTF-8'.",
        )
        return None


def _too_big() -> str:
    return (
        f"the file is larger than {MAX_BYTES / 1_000_000:g} MB; split the term into several "
        f"files of at most {MAX_ROWS} workshops."
    )


def _delimiter(first_line: str) -> str:
    """Commas, or the semicolons or tabs some spreadsheets write instead."""
    best, hits = ",", -1
    for candidate in (",", ";", "\t"):
        names = {_column_name(n) for n in first_line.split(candidate)}
        found = len(names & set(ALL_COLUMNS))
        if found > hits:
            best, hits = candidate, found
    return best


def _column_name(raw: str) -> str:
    return "_".join(raw.strip().strip('"').lower().split())


def _read_records(reader, plan: SchedulePlan) -> tuple[tuple[int, list[str]], list]:
    """The header (row number, cells) and the non-blank rows below it."""
    header: tuple[int, list[str]] = (1, [])
    records: list[tuple[int, list[str]]] = []
    row_number = 0
    try:
        for row_number, record in enumerate(reader, start=1):
            if not any(cell.strip() for cell in record):
                continue
            if not header[1]:
                header = (row_number, record)
            elif len(records) >= MAX_ROWS:
                plan.error(
                    row_number,
                    None,
                    f"the file has more than {MAX_ROWS} workshops; split it into several files.",
                )
                break
            else:
                records.append((row_number, record))
    except csv.Error as exc:
        plan.error(row_number + 1, None, _unreadable(exc))
    if not header[1] and not plan.errors:
        plan.error(1, None, "the file has no header row.")
    return header, records


def _unreadable(exc: csv.Error) -> str:
    """Why a row cannot be read as CSV, in words (the csv module's, for the rare rest)."""
    if "unexpected end of data" in str(exc):
        return (
            "a double quote opened in this row is never closed, so every row after it "
            "would be read as one value; close the quote, and write a quote inside a "
            'value as two ("").'
        )
    if "expected after" in str(exc):
        return (
            "a quoted value in this row goes on after its closing quote; put the whole "
            'value in double quotes and write a quote inside it as two ("").'
        )
    return f"this row cannot be read as CSV ({exc})."


def _read_header(row: int, header: list[str], plan: SchedulePlan) -> list[str] | None:
    """The normalised column names; unnamed columns (often trailing commas) are kept as ''."""
    names = [_column_name(raw) for raw in header]
    seen: set[str] = set()
    for index, name in enumerate(names, start=1):
        if not name:
            continue
        if name not in ALL_COLUMNS:
            plan.error(
                row,
                header[index - 1].strip(),
                f"unknown column; the columns are {', '.join(COLUMNS)} and optionally "
                f"{', '.join(OPTIONAL_COLUMNS)}.",
            )
        elif name in seen:
            plan.error(row, name, "this column appears twice in the header row.")
        seen.add(name)
    for name in COLUMNS:
        if name not in seen:
            plan.error(row, name, "missing column: the header row must name it.")
    return None if plan.errors else names


def parse_schedule(
    text: str | bytes, *, allowed_centre_ids: set[int] | None = None
) -> SchedulePlan:
    """Read and check a schedule CSV; write nothing.

    Returns a SchedulePlan with one PlannedWorkshop per good row and a ScheduleError for
    every problem (row numbers as a spreadsheet shows them, the header being row 1).
    `allowed_centre_ids`, when given, limits the centres rows may name.
    """
    plan = SchedulePlan()
    if isinstance(text, bytes):
        text = decode_schedule(text, plan)
        if text is None:
            return plan
    text = text.removeprefix("\ufeff")
    if len(text) > MAX_BYTES:
        plan.error(None, None, _too_big())
        return plan
    if not text.strip():
        plan.error(
            1, None, f"the file is empty: it needs a header row ({', '.join(COLUMNS)}) "
            "and one row per workshop."
        )
        return plan
    first_line = text.lstrip("\r\n").splitlines()[0]
    # strict: a quote left open is an error, not the rest of the file read as one value.
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(first_line), strict=True
    )
    header_row, records = _read_records(reader, plan)
    if plan.errors:
        return plan
    names = _read_header(header_row[0], header_row[1], plan)
    if names is None:
        return plan
    if not records:
        plan.error(header_row[0] + 1, None, "there are no workshops below the header row.")
        return plan

    checker = RowChecker(plan, names, allowed_centre_ids)
    for row_number, record in records:
        checker.check(row_number, record)
    plan.errors.sort(key=lambda e: (e.row or 0, checker.column_order(e.column)))
    return plan


class _Abort(Exception):
    """Rolls the import's transaction back."""


def import_schedule(
    text: str | bytes,
    *,
    dry_run: bool = False,
    allowed_centre_ids: set[int] | None = None,
    allow_clash: bool = False,
) -> ImportResult:
    """Create every workshop of a schedule CSV in one transaction, or none.

    Errors (any row) mean nothing is written; the result lists them. A row whose room or
    instructor is already busy then (by what exists or by an earlier row) is a clash:
    nothing is written unless `allow_clash`. With dry_run, the file is checked, clashes
    included, and nothing is written. `allowed_centre_ids` limits the centres a staff
    member may use.
    """
    plan = parse_schedule(text, allowed_centre_ids=allowed_centre_ids)
    result = ImportResult(plan=plan, dry_run=dry_run)
    if not plan.ok:
        return result
    if dry_run:
        _note_clashes(plan)
        return result
    try:
        with write_transaction():
            lock_schedule()
            _note_clashes(plan)
            if plan.clashes and not allow_clash:
                raise _Abort
            for row in plan.rows:
                try:
                    row.workshop_id = create_workshop(**row.fields, allow_clash=True).id
                except Invalid as exc:  # refused before writing anything of its own
                    for name, message in exc.fields.items():
                        plan.error(row.row, COLUMN_OF.get(name, name), sentence(message))
            if plan.errors:
                raise _Abort
    except _Abort:
        for row in plan.rows:
            row.workshop_id = None
        return result
    result.created = True
    return result


def _note_clashes(plan: SchedulePlan) -> None:
    """Every row's clashes with what exists and with the rows above it, by row."""
    groups = [
        [
            Busy(
                session_id=None,
                workshop_id=-row.row,  # not written yet: the row stands for the workshop
                number=number,
                title=row.fields["title"],
                centre_id=row.fields["centre_id"],
                centre_name=row.centre_name,
                timezone=row.timezone,
                room=row.fields.get("room") or "",
                instructor_id=row.fields["instructor_id"],
                instructor_name=row.instructor_name,
                starts_at=start,
                ends_at=end,
            )
            for number, (start, end) in enumerate(row.times, start=1)
        ]
        for row in plan.rows
    ]
    plan.clashes = [
        ScheduleError(row.row, COLUMN_OF["first_session_local"], message)
        for row, found in zip(plan.rows, clashes_in_order(groups), strict=True)
        for message in summarise(found)
    ]

"""The schedule CSV: parsing, every kind of error by row and column, all or nothing."""

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Workshop, WorkshopSession
from booking.services.schedule import imports as schedule_import
from booking.services.schedule.imports import import_schedule, parse_schedule
from booking.services.schedule.queries import workshop_topics

HEADER = (
    "centre,title,kind,instructor_email,first_session,sessions,duration_minutes,capacity,"
    "min_age_weeks,max_age_weeks,price,description,publish"
)
DAY = (date.today() + timedelta(days=30)).isoformat()
LATER = (date.today() + timedelta(days=60)).isoformat()


def row(**overrides) -> str:
    values = {
        "centre": "riverside",
        "title": "Baby massage course",
        "kind": "course",
        "instructor_email": "teacher@example.org",
        "first_session": f"{DAY} 10:00",
        "sessions": "4",
        "duration_minutes": "60",
        "capacity": "8",
        "min_age_weeks": "6",
        "max_age_weeks": "52",
        "price": "45.00",
        "description": "Gentle strokes",
        "publish": "yes",
    }
    values.update(overrides)
    return ",".join(values[name] for name in HEADER.split(","))


def csv_of(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


@pytest.fixture
def setup(make_centre, make_user):
    centre = make_centre(slug="riverside", name="Riverside Hub")
    teacher = make_user(email="teacher@example.org", role="instructor", centre=centre)
    return centre, teacher


def workshop_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Workshop))


def messages(result) -> list[str]:
    return [str(e) for e in result.errors]


def test_import_creates_every_row(ctx, setup):
    text = csv_of(
        row(),
        row(title="Colic class", kind="single", sessions="", first_session=f"{LATER} 13:30",
            publish="no"),
    )
    result = import_schedule(text)
    assert result.ok and result.created
    assert len(result.workshop_ids) == 2
    course, single = (db.session.get(Workshop, i) for i in result.workshop_ids)
    assert course.status == "published" and single.status == "draft"
    assert single.kind == "single"
    counts = [
        db.session.scalar(
            sa.select(sa.func.count()).where(WorkshopSession.workshop_id == w.id)
        )
        for w in (course, single)
    ]
    assert counts == [4, 1]


def test_optional_columns(ctx, setup):
    header = HEADER + ",topics,min_places,held_places,late_join_until"
    text = csv_of(row() + ",colic;Premature,3,2,2", header=header)
    result = import_schedule(text)
    assert result.ok, messages(result)
    workshop = db.session.get(Workshop, result.workshop_ids[0])
    assert workshop_topics(workshop.id) == ["colic", "premature"]
    assert (workshop.min_places, workshop.held_places, workshop.late_join_until) == (3, 2, 2)
    assert workshop.price == Decimal("45.00")


def test_bom_crlf_quotes_and_header_spacing(ctx, setup):
    header = " Centre , Title,kind,Instructor Email" + HEADER[HEADER.index(",first_session"):]
    text = csv_of(row(description='"Strokes, holds and ""songs"""'), header=header)
    data = ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8")
    result = import_schedule(data)
    assert result.ok, messages(result)
    workshop = db.session.get(Workshop, result.workshop_ids[0])
    assert workshop.description == 'Strokes, holds and "songs"'


def test_semicolon_separated_file_is_read(ctx, setup):
    text = csv_of(row()).replace(",", ";")
    result = import_schedule(text)
    assert result.ok, messages(result)


def test_dry_run_writes_nothing(ctx, setup):
    result = import_schedule(csv_of(row(), row(title="Second")), dry_run=True)
    assert result.ok and not result.created
    assert [r.row for r in result.rows] == [2, 3]
    assert "Riverside Hub" in result.rows[0].describe()
    assert result.workshop_ids == []
    assert workshop_count() == 0


def test_one_bad_row_imports_nothing(ctx, setup):
    result = import_schedule(csv_of(row(), row(title="Second"), row(capacity="lots")))
    assert not result.ok and not result.created
    assert messages(result) == [
        "row 4, column capacity: capacity must be a whole number, such as 1."
    ]
    assert workshop_count() == 0


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"centre": "nowhere"}, "column centre: there is no centre with the slug"),
        ({"centre": ""}, "column centre: give the centre's slug"),
        ({"title": ""}, "column title: give the title"),
        ({"kind": "workshop"}, "column kind: the kind must be course or single"),
        ({"instructor_email": "nobody@example.org"}, "column instructor_email: choose an"),
        ({"first_session": "tomorrow"}, "column first_session: use YYYY-MM-DD HH:MM"),
        ({"first_session": "2020-01-06 10:00"}, "column first_session: the first"),
        ({"sessions": "0"}, "column sessions:"),
        ({"kind": "single", "sessions": "3"}, "column sessions: a single class"),
        ({"duration_minutes": "600"}, "column duration_minutes: duration"),
        ({"capacity": "-2"}, "column capacity:"),
        ({"min_age_weeks": "x"}, "column min_age_weeks:"),
        ({"max_age_weeks": "2"}, "column max_age_weeks: the maximum age"),
        ({"price": "12.999"}, "column price: the price can have at most two"),
        ({"publish": "perhaps"}, "column publish: publish must be yes or no"),
        ({"description": "x" * 5001}, "column description:"),
    ],
)
def test_each_error_names_row_and_column(ctx, setup, overrides, expected):
    result = import_schedule(csv_of(row(), row(**overrides)))
    assert not result.ok
    shown = messages(result)
    assert any(m.startswith("row 3, " + expected) for m in shown), shown
    assert workshop_count() == 0


def test_several_errors_are_all_reported_in_order(ctx, setup):
    result = import_schedule(csv_of(row(price="x", capacity="y"), row(), row(kind="z")))
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "capacity"),
        (2, "price"),
        (4, "kind"),
    ]


def test_instructor_from_another_centre(ctx, setup, make_centre, make_user):
    other = make_centre(slug="other")
    make_user(email="elsewhere@example.org", role="instructor", centre=other)
    result = import_schedule(csv_of(row(instructor_email="elsewhere@example.org")))
    assert messages(result) == [
        "row 2, column instructor_email: choose an instructor who teaches at this centre."
    ]


def test_unknown_topic_and_optional_numbers(ctx, setup):
    header = HEADER + ",topics,min_places,held_places,late_join_until"
    result = import_schedule(csv_of(row() + ",colic;yoga,9,9,7", header=header))
    columns = {e.column for e in result.errors}
    assert columns == {"topics", "min_places", "held_places", "late_join_until"}
    assert "yoga" in next(str(e) for e in result.errors if e.column == "topics")


def test_duplicate_rows_and_existing_classes(ctx, setup):
    result = import_schedule(csv_of(row(), row()))
    assert messages(result) == ["row 3, column title: the same class as row 2."]
    assert import_schedule(csv_of(row())).ok
    again = import_schedule(csv_of(row()))
    assert again.errors[0].row == 2 and again.errors[0].column == "title"
    assert workshop_count() == 1


def test_centres_outside_the_allowed_set(ctx, setup, make_centre):
    centre, _ = setup
    other = make_centre(slug="other")
    refused = import_schedule(csv_of(row()), allowed_centre_ids={other.id})
    assert messages(refused) == ["row 2, column centre: you may not add classes at Riverside Hub."]
    assert import_schedule(csv_of(row()), allowed_centre_ids={centre.id}).ok


def test_header_problems_are_row_one(ctx, setup):
    header = HEADER.replace("capacity,", "").replace("publish", "publish,colour")
    result = parse_schedule(csv_of("", header=header))
    assert messages(result) == [
        "row 1, column colour: unknown column; the columns are centre, title, kind, "
        "instructor_email, first_session, sessions, duration_minutes, capacity, "
        "min_age_weeks, max_age_weeks, price, description, publish and optionally topics, "
        "min_places, held_places, late_join_until, payment, deposit, refund_fee, plan.",
        "row 1, column capacity: missing column: the header row must name it.",
    ]
    doubled = parse_schedule(csv_of(row(), header=HEADER + ",price"))
    assert "row 1, column price: this column appears twice" in messages(doubled)[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "row 1: the file is empty"),
        ("\n \n", "row 1: the file is empty"),
        (HEADER + "\n", "row 2: there are no workshops below the header row."),
    ],
)
def test_empty_files(ctx, text, expected):
    assert messages(parse_schedule(text))[0].startswith(expected)


def test_non_utf8_bytes_name_the_row(ctx, setup):
    data = csv_of(row(), row(title="Caf\u00e9 class")).encode("cp1252")
    result = import_schedule(data)
    assert messages(result) == [
        "row 3: the file is not UTF-8 text (byte 0xe9). Save it from your spreadsheet "
        "as 'CSV UTF-8'."
    ]
    assert workshop_count() == 0


def test_huge_file_is_refused(ctx, setup, monkeypatch):
    big = csv_of(row()) + "," * (schedule_import.MAX_BYTES + 10)
    assert messages(parse_schedule(big.encode()))[0].startswith("the file is larger than")
    assert messages(parse_schedule(big))[0].startswith("the file is larger than")
    monkeypatch.setattr(schedule_import, "MAX_ROWS", 3)
    many = csv_of(*(row(title=f"Class {n}") for n in range(5)))
    assert messages(parse_schedule(many)) == [
        "row 5: the file has more than 3 workshops; split it into several files."
    ]


def test_row_numbers_count_blank_lines_and_extra_cells(ctx, setup):
    text = csv_of(row(), "", row(title="Extra") + ",surprise", row(capacity="no"))
    result = parse_schedule(text)
    assert [(e.row, e.column) for e in result.errors] == [(4, None), (5, "capacity")]
    assert "has 14 values but the header has 13 columns" in str(result.errors[0])


def test_unreadable_csv_is_an_error(ctx, setup):
    text = csv_of(row(description="x" * 200_000))
    result = parse_schedule(text)
    assert result.errors[0].row == 2
    assert "cannot be read as CSV" in str(result.errors[0])


def test_a_quote_left_open_is_an_error_not_the_rest_of_the_file(ctx, setup):
    """A description opened with a quote and never closed used to swallow every row
    after it into that description, and import the first row alone."""
    text = csv_of(row(), row(title="Second", description='"Bring a towel'), row(title="Third"))
    result = import_schedule(text)
    assert not result.ok and not result.created
    assert [(e.row, e.column) for e in result.errors] == [(3, None)]
    assert "a double quote opened in this row is never closed" in str(result.errors[0])
    assert db.session.scalar(sa.select(sa.func.count(Workshop.id))) == 0
    stray = parse_schedule(csv_of(row(description='"Towel" and oil')))
    assert "goes on after its closing quote" in str(stray.errors[0])


def write(tmp_path, text: str | bytes):
    path = tmp_path / "term.csv"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return str(path)


def test_cli_imports_and_reports(runner, ctx, setup, tmp_path):
    path = write(tmp_path, csv_of(row(), row(title="Second", first_session=f"{DAY} 14:00")))
    result = runner.invoke(args=["import-schedule", path])
    assert result.exit_code == 0, result.output
    assert "Imported 2 workshops" in result.output
    assert workshop_count() == 2


def test_cli_dry_run_changes_nothing(runner, ctx, setup, tmp_path):
    path = write(tmp_path, csv_of(row()))
    result = runner.invoke(args=["import-schedule", path, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run: 1 workshop would be created" in result.output
    assert "row 2: course 'Baby massage course' at Riverside Hub" in result.output
    assert workshop_count() == 0


def test_cli_errors_exit_non_zero(runner, ctx, setup, tmp_path):
    path = write(tmp_path, csv_of(row(), row(capacity="many", price="x")))
    result = runner.invoke(args=["import-schedule", path])
    assert result.exit_code == 1
    assert "row 3, column capacity:" in result.output
    assert "row 3, column price:" in result.output
    assert "2 errors" in result.output and "nothing was imported" in result.output
    assert workshop_count() == 0


def test_cli_bad_bytes_and_missing_file(runner, ctx, setup, tmp_path):
    path = write(tmp_path, b"\xff\xfe" + "centre".encode("utf-16-le"))
    result = runner.invoke(args=["import-schedule", path])
    assert result.exit_code == 1
    assert "not UTF-8" in result.output
    missing = runner.invoke(args=["import-schedule", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2


def test_example_file_imports_into_the_demo_data(runner, ctx):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    before = workshop_count()
    example = Path(__file__).parent.parent / "docs" / "example-schedule.csv"
    # the example's dates are fixed; move them to a year that is still ahead
    text = example.read_text(encoding="utf-8").replace("2030-", f"{date.today().year + 2}-")
    result = import_schedule(text)
    assert result.ok, messages(result)
    assert workshop_count() == before + 4


# --- amounts typed with a currency sign ---------------------------------------------------


@pytest.fixture
def in_australia(make_centre, make_user):
    """A centre in Australia, prices in AUD, with its own instructor."""
    centre = make_centre(slug="perth", name="Perth Hub", country="AU",
                         timezone="Australia/Perth")
    make_user(email="aus@example.org", role="instructor", centre=centre)
    return centre


def aus_row(**overrides) -> str:
    return row(centre="perth", instructor_email="aus@example.org", **overrides)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (lambda: row(price="€45"), "column price: type the price without a sign, or with £."),
        (lambda: row(price="$45"), "column price: type the price without a sign, or with £."),
        (lambda: aus_row(price="£45"),
         "column price: type the price without a sign, or with $, A$ or AU$."),
    ],
)
def test_a_price_with_another_currencys_sign_is_refused(ctx, setup, in_australia, line,
                                                        expected):
    """€45 at a centre in pounds (or £45 at one in dollars) is not taken as its own
    currency: nothing is imported, in a dry run or not."""
    for dry_run in (True, False):
        result = import_schedule(csv_of(row(), line()), dry_run=dry_run)
        assert not result.ok
        shown = messages(result)
        assert any(m.lower().startswith("row 3, " + expected.lower()) for m in shown), shown
    assert workshop_count() == 0


def test_a_price_bare_or_with_the_centres_own_sign_is_taken(ctx, setup, in_australia):
    text = csv_of(
        row(price="£45"),
        row(title="Bare", price="45", first_session=f"{LATER} 10:00"),
        aus_row(price="$45"),
        aus_row(title="As on its pages", price="A$45", first_session=f"{LATER} 10:00"),
        aus_row(title="The long way", price="AU$ 45.50", first_session=f"{LATER} 14:00"),
    )
    result = import_schedule(text)
    assert result.ok and result.created, messages(result)
    prices = sorted(db.session.get(Workshop, i).price for i in result.workshop_ids)
    assert prices == [Decimal("45.00")] * 4 + [Decimal("45.50")]


def test_a_cancellation_fee_with_another_currencys_sign_is_refused(ctx, setup):
    header = HEADER + ",refund_fee"
    result = import_schedule(csv_of(row() + ",€5", header=header))
    assert [(e.row, e.column) for e in result.errors] == [(2, "refund_fee")]
    assert "without a sign, or with £" in str(result.errors[0])
    assert workshop_count() == 0


def test_cli_refuses_a_price_with_another_currencys_sign(runner, ctx, setup, in_australia,
                                                         tmp_path):
    for args in ([], ["--dry-run"]):
        path = write(tmp_path, csv_of(row(price="€45"), aus_row(price="£45")))
        result = runner.invoke(args=["import-schedule", path, *args])
        assert result.exit_code == 1, result.output
        assert "row 2, column price: type the price without a sign, or with £." in result.output
        assert ("row 3, column price: type the price without a sign, or with $, A$ or AU$."
                in result.output)
    assert workshop_count() == 0


def test_the_preview_shows_prices_in_each_centres_currency(
    client, auth, setup, in_australia, make_user
):
    make_user(email="admin@example.org", role="admin")
    auth.login("admin@example.org")
    text = csv_of(row(price="45"), aus_row(title="Perth course", price="A$60"))
    preview = client.post("/manage/import", data={"file": (BytesIO(text.encode()), "t.csv")},
                          content_type="multipart/form-data")
    assert preview.status_code == 200
    assert "£45.00" in preview.text and "A$60.00" in preview.text
    with client.application.app_context():
        first, second = parse_schedule(text).rows
    assert "price £45.00 (at centre)" in first.describe()
    assert "price A$60.00 (at centre)" in second.describe()
    second.fields["payment"], second.fields["deposit"] = "deposit", Decimal("20")
    assert "price A$60.00 (deposit A$20.00)" in second.describe()

"""The payments CSV of a workshop or a centre: one row per place and payment, amounts
in major units of the centre's currency, times in its zone, cells that spreadsheets
will not run as formulas."""

import csv
import io
from datetime import datetime

from booking.models import Centre, Workshop
from booking.services.payments.figures import PlaceMoney, major_units
from booking.services.payments.queries import CentreMoney, WorkshopMoney
from booking.services.teaching.roster import csv_cell
from booking.timefmt import to_local


def _when(instant: datetime | None, tz_name: str) -> str:
    return to_local(instant, tz_name).strftime("%Y-%m-%d %H:%M") if instant else ""


def _csv_rows(workshop: Workshop, place: PlaceMoney, tz_name: str) -> list[list]:
    """One row per payment of the place (one row when it has none); the place's own
    figures (owed or paid at the centre) on its first row only."""
    rows = []
    for index, line in enumerate(place.payments or [None]):
        first = index == 0
        rows.append(
            [
                workshop.title if workshop else "",
                workshop.id if workshop else "",
                _when(workshop.first_starts_at, tz_name) if workshop else "",
                place.registration_id or "",
                line.reference if line else "",
                place.baby_name,
                place.parent_name,
                place.status_label,
                place.label,
                major_units(line.amount if line and line.succeeded else 0),
                major_units(line.refunded if line else 0),
                major_units(line.refunding if line else 0),
                major_units(line.failed if line else 0),
                major_units(place.owed if first else 0),
                major_units(place.paid_at_centre if first else 0),
                _when(place.booked_at, tz_name),
                _when(line.paid_at if line else None, tz_name),
                _when(line.refunded_at if line else None, tz_name),
                _when(place.paid_at_centre_at, tz_name) if first else "",
                _when(place.pay_by, tz_name),
                # Last, so that the columns before keep their places for scripts.
                major_units(place.to_give_back if first else 0),
                major_units(place.over_paid if first else 0),
            ]
        )
    return rows


def _header(zone: str, currency: str) -> list[str]:
    amounts = [
        "Amount paid",
        "Refunded",
        "Refund in progress",
        "Refund failed",
        "Owed at centre",
        "Paid at centre",
    ]
    times = ["Booked", "Paid", "Refunded on", "Marked paid at centre", "Pay by"]
    return [
        "Workshop",
        "Workshop number",
        f"First session ({zone})",
        "Booking number",
        "Reference",
        "Baby first name",
        "Parent name",
        "Booking status",
        "Payment status",
        *[f"{name} ({currency})" for name in amounts],
        *[f"{name} ({zone})" for name in times],
        f"To give back at centre ({currency})",
        f"Paid online beyond the price ({currency})",
    ]


def _csv(centre: Centre, places: list[tuple[Workshop, PlaceMoney]]) -> str:
    zone = centre.timezone
    header = _header(zone, centre.currency)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for workshop, place in places:
        for row in _csv_rows(workshop, place, zone):
            writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


def workshop_money_csv(money: WorkshopMoney) -> str:
    """A workshop's payments as CSV: a header row, then a row per place and payment."""
    return _csv(money.centre, [(money.workshop, place) for place in money.places])


def centre_money_csv(money: CentreMoney) -> str:
    """A centre's payments as CSV, workshop by workshop, in the same columns."""
    return _csv(money.centre, money.places)

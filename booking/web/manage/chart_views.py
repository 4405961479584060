"""Back office: occupancy and demand charts of the staff's centres, each drawn on the
server as SVG beside the same numbers as a table, and each table as a CSV."""

from flask import Response, render_template, request
from flask_login import current_user
from wtforms import DateField, SelectChoice, SelectField

from booking.auth_setup import staff_required
from booking.models import utcnow
from booking.services.catalogue import centres as centre_service
from booking.services.catalogue.params import InvalidQuery
from booking.services.schedule import charts as chart_service
from booking.services.schedule.chart_filter import parse_filter
from booking.web.forms import Form, put_domain_error
from booking.web.manage.blueprint import bp


class ChartFilterForm(Form):
    """The charts' filters, for rendering; the chart service checks the values."""

    class Meta:
        csrf = False

    centre = SelectField("Centre", choices=[], validate_choice=False)
    date_from = DateField("From")
    date_to = DateField("To")


def _filter_form(centres) -> ChartFilterForm:
    form = ChartFilterForm(formdata=request.args)
    form.centre.choices = [SelectChoice("", "All your centres")] + [
        SelectChoice(str(c.id), c.name) for c in centres
    ]
    return form


def _parse(centres):
    return parse_filter(request.args, centres, utcnow().date())


@bp.route("/charts")
@staff_required
def charts():
    """Fill rates per workshop and per week, waiting-list demand by time slot and age,
    attendance, referral codes and money, for the staff's centres over a range of dates
    (by default the current term)."""
    centres = centre_service.managed_centres(current_user)
    form = _filter_form(centres)
    try:
        chosen = _parse(centres)
    except InvalidQuery as exc:
        put_domain_error(form, exc)
        for box in (form.date_from, form.date_to):
            if box.data is None:
                box.raw_data = []  # a date box cannot show what is not a date
        return render_template("manage/charts.html", form=form, centres=centres, chosen=None,
                               charts=[]), 400
    for box, day in ((form.date_from, chosen.date_from), (form.date_to, chosen.date_to)):
        box.data, box.raw_data = day, []  # the dates charted, defaults included
    return render_template(
        "manage/charts.html",
        form=form,
        chosen=chosen,
        centres=centres,
        charts=chart_service.all_charts(chosen) if centres else [],
    )


@staff_required
def chart_csv(name: str):
    """One chart's table as CSV, with the same filters as the page."""
    chosen = _parse(centre_service.managed_centres(current_user))
    response = Response(chart_service.csv_text(chart_service.chart(name, chosen)),
                        mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{name}-{chosen.date_from}-to-{chosen.date_to}.csv"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# One address per chart (/manage/charts/fill.csv ...), all served by chart_csv.
for _name in chart_service.CHART_NAMES:
    bp.add_url_rule(f"/charts/{_name}.csv", "chart_csv", chart_csv, defaults={"name": _name})

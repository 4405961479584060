"""The term calendar: a week, a month or a day of sessions at the staff's centres, with
fill bars and clashes (booking.services.schedule.calendar)."""

from flask import render_template, request
from flask_login import current_user
from wtforms import DateField, SelectChoice, SelectField

from booking.auth_setup import staff_required
from booking.services.catalogue.centres import managed_centres
from booking.services.catalogue.params import InvalidQuery
from booking.services.schedule import calendar as calendar_service
from booking.services.schedule.calendar_params import parse_calendar_args
from booking.web.forms import Form, put_domain_error
from booking.web.manage.blueprint import bp


class CalendarFilterForm(Form):
    """The calendar's filters, for rendering (a GET form, no CSRF token); the service
    checks the values."""

    class Meta:
        csrf = False

    centre = SelectField("Centre")
    room = SelectField("Room")
    instructor = SelectField("Instructor")
    view = SelectField(
        "View", choices=[SelectChoice(v, v.capitalize()) for v in ("week", "month", "day")]
    )
    date = DateField("Date")


def _filter_form(choices: calendar_service.FilterChoices) -> CalendarFilterForm:
    form = CalendarFilterForm(formdata=request.args)
    form.centre.choices = [SelectChoice("", "All your centres")] + [
        SelectChoice(str(c.id), c.name) for c in choices.centres
    ]
    rooms = list(choices.rooms)
    asked = " ".join(request.args.get("room", "").split())
    if asked:  # shown as chosen, however it was spelt or even if no session uses it
        key = calendar_service.room_key(asked)
        form.room.data = next((r for r in rooms if calendar_service.room_key(r) == key), asked)
        if form.room.data not in rooms:
            rooms.append(asked)
    form.room.choices = [SelectChoice("", "Any room")] + [SelectChoice(r, r) for r in rooms]
    form.instructor.choices = [SelectChoice("", "Any instructor")] + [
        SelectChoice(str(p.id), p.name) for p in choices.instructors
    ]
    return form


@bp.route("/calendar")
@staff_required
def calendar():
    """The term calendar: sessions by week (days across), month (weeks down) or day
    (rooms across), filtered by centre, room and instructor; a phone shows one day."""
    choices = calendar_service.filter_choices(managed_centres(current_user))
    form = _filter_form(choices)
    try:
        params = parse_calendar_args(request.args)
        cal = calendar_service.load_calendar(params, choices)
    except InvalidQuery as exc:
        if "date" in exc.fields:
            form.date.raw_data = []  # a date input may hold only a real date
        put_domain_error(form, exc)
        return render_template("manage/calendar.html", form=form, errors=exc.fields), 400
    form.view.data = cal.params.view
    form.date.data = cal.params.day
    return render_template("manage/calendar.html", form=form, errors={}, cal=cal)

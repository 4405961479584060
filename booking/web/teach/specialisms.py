"""An instructor's specialisms: the topics they list on their public profile."""

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice
from wtforms.validators import Optional

from booking.auth_setup import instructor_required
from booking.extensions import db
from booking.models import InstructorProfile
from booking.services.errors import DomainError
from booking.services.schedule.topic_tags import set_instructor_topics
from booking.topics import TOPICS
from booking.web.forms import Form
from booking.web.manage.forms import MultiCheckboxField
from booking.web.teach.blueprint import bp


class SpecialismsForm(Form):
    """The topics an instructor specialises in."""

    topics = MultiCheckboxField(
        "I specialise in classes for",
        choices=[SelectChoice(t.slug, t.name) for t in TOPICS],
        validators=[Optional()],
    )


def _current_topics() -> list[str]:
    profile = db.session.scalar(
        sa.select(InstructorProfile).where(InstructorProfile.user_id == current_user.id)
    )
    return profile.topic_slugs if profile else []


@bp.route("/specialisms", methods=["GET", "POST"])
@instructor_required
def specialisms():
    """Choose the topics shown as specialisms on the instructor's public profile."""
    if request.method == "GET":
        form = SpecialismsForm(data={"topics": _current_topics()})
    else:
        form = SpecialismsForm()
    status = 200
    if form.validate_on_submit():
        try:
            set_instructor_topics(current_user.id, form.topics.data or [])
        except DomainError as exc:
            form.topics.errors = [*form.topics.errors, exc.message]
            status = exc.status
        else:
            flash("Your specialisms are saved.", "success")
            return redirect(url_for("teach.index"))
    elif form.is_submitted():
        status = 422
    return render_template("teach/specialisms.html", form=form), status

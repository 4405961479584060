"""An instructor's public profile: the name, qualification and words parents see."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import StringField, TextAreaField

from booking.auth_setup import instructor_required
from booking.services.errors import DomainError
from booking.services.teaching import profile as profile_service
from booking.web.forms import Form, put_domain_error, status_for
from booking.web.teach.blueprint import bp


class ProfileForm(Form):
    """What families read about the instructor."""

    display_name = StringField("Name shown to families")
    qualification = StringField("Qualification")
    bio = TextAreaField("About you")


@bp.route("/profile", methods=["GET", "POST"])
@instructor_required
def profile():
    """Write the name, qualification and a few words shown on the instructor's page."""
    if not ProfileForm().is_submitted():
        form = ProfileForm(data=vars(profile_service.profile_text(current_user.id)))
        return _page(form, 200)
    form = ProfileForm()
    if not form.validate_on_submit():
        return _page(form, 400 if form.errors.get("csrf_token") else 422)
    try:
        profile_service.save_profile(
            current_user.id,
            display_name=form.display_name.data,
            qualification=form.qualification.data,
            bio=form.bio.data,
        )
    except DomainError as exc:
        put_domain_error(form, exc)
        return _page(form, status_for(exc))
    flash("Your profile is saved: families see it on your page.", "success")
    return redirect(url_for("teach.profile"))


def _page(form: ProfileForm, status: int):
    return render_template("teach/profile.html", form=form), status

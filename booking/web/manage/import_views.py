"""Back office: a schedule CSV is previewed, then imported all or nothing."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking.auth_setup import staff_required
from booking.services.accounts.access import managed_centre_ids
from booking.services.schedule import imports as schedule_import
from booking.web.manage.blueprint import bp
from booking.web.manage.forms import ImportConfirmForm, ImportUploadForm


def _preview(plan, csv_text: str | None, upload_form, status: int):
    confirm_form = ImportConfirmForm(formdata=None, data={"csv_text": csv_text or ""})
    return (
        render_template(
            "manage/import.html",
            form=upload_form,
            plan=plan,
            confirm_form=confirm_form if plan is not None and plan.ok and csv_text else None,
        ),
        status,
    )


@bp.route("/import", methods=["GET", "POST"])
@staff_required
def schedule_upload():
    """Upload a schedule CSV and see what it would create and every error."""
    form = ImportUploadForm()
    if request.method == "GET":
        return _preview(None, None, form, 200)
    if not form.validate_on_submit():
        return _preview(None, None, form, 422)
    data = form.file.data.read(schedule_import.MAX_BYTES + 1)
    plan = schedule_import.parse_schedule(data, allowed_centre_ids=managed_centre_ids(current_user))
    csv_text = None
    if plan.ok:
        csv_text = data.decode("utf-8-sig")
    return _preview(plan, csv_text, form, 200 if plan.ok else 422)


@bp.route("/import/confirm", methods=["POST"])
@staff_required
def schedule_confirm():
    """Import the previewed CSV: every workshop, or none when anything is wrong."""
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        flash("There was no schedule to import; please upload the file again.", "error")
        return _preview(None, None, ImportUploadForm(formdata=None), 422)
    result = schedule_import.import_schedule(
        form.csv_text.data, allowed_centre_ids=managed_centre_ids(current_user)
    )
    if not result.created:
        flash("Nothing was imported: please correct the file and upload it again.", "error")
        return _preview(result.plan, None, ImportUploadForm(formdata=None), 422)
    count = len(result.workshop_ids)
    flash(f"Imported {count} workshop{'s' if count != 1 else ''}.", "success")
    return redirect(url_for("manage.index"))

"""Back office: a schedule CSV is previewed, then imported all or nothing."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking.auth_setup import staff_required
from booking.services.accounts.access import managed_centre_ids
from booking.services.schedule import imports as schedule_import
from booking.timefmt import to_local
from booking.web.ids import parse_id
from booking.web.manage import queries
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
    """Upload a schedule CSV and see what it would create, every error and every clash."""
    form = ImportUploadForm()
    if request.method == "GET":
        return _preview(None, None, form, 200)
    if not form.validate_on_submit():
        return _preview(None, None, form, 422)
    data = form.file.data.read(schedule_import.MAX_BYTES + 1)
    result = schedule_import.import_schedule(
        data, dry_run=True, allowed_centre_ids=managed_centre_ids(current_user)
    )
    csv_text = data.decode("utf-8-sig") if result.ok else None
    return _preview(result.plan, csv_text, form, 200 if result.ok else 422)


@bp.route("/import/confirm", methods=["POST"])
@staff_required
def schedule_confirm():
    """Import the previewed CSV: every workshop, or none when anything is wrong (a clash
    too, unless staff ticked "I know, keep both")."""
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        flash("There was no schedule to import; please upload the file again.", "error")
        return _preview(None, None, ImportUploadForm(formdata=None), 422)
    result = schedule_import.import_schedule(
        form.csv_text.data,
        allowed_centre_ids=managed_centre_ids(current_user),
        allow_clash=form.allow_clash.data,
    )
    if not result.created:
        if result.ok:  # only clashes stopped it: the same file can still be imported
            flash("Nothing was imported: some rows clash (below).", "error")
            return _preview(result.plan, form.csv_text.data, ImportUploadForm(formdata=None), 409)
        flash("Nothing was imported: please correct the file and upload it again.", "error")
        return _preview(result.plan, None, ImportUploadForm(formdata=None), 422)
    count = len(result.workshop_ids)
    flash(f"Imported {count} workshop{'s' if count != 1 else ''}.", "success")
    return redirect(
        url_for("manage.schedule_done", ids=",".join(str(i) for i in result.workshop_ids))
    )


@bp.route("/import/done")
@staff_required
def schedule_done():
    """What an import created, with links to each workshop and to the term calendar."""
    raw = request.args.get("ids", "")
    parts = raw.split(",") if raw else []
    named = [parse_id(p) for p in parts]  # None for what names no workshop
    if len(parts) > schedule_import.MAX_ROWS or None in named:
        abort(400, "The list of imported workshops is not one this site made.")
    ids = list(dict.fromkeys(named))
    rows = queries.imported(ids, managed_centre_ids(current_user))
    dates = {
        r.workshop.id: to_local(r.workshop.first_starts_at, r.centre.timezone).date().isoformat()
        for r in rows
        if r.workshop.first_starts_at is not None
    }
    return render_template(
        "manage/import_done.html",
        rows=rows,
        dates=dates,
        calendar_date=min(dates.values(), default=None),
    )

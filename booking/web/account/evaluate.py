"""A course evaluation, answered from the emailed link without logging in.

`/evaluate/<token>`: the token is signed and names the booking, so the link alone
opens the page; a link that is not ours, or was altered, is a 404. One short form:
confidence before and now (1-5), what helped most (optional) and whether those words
may be shown publicly without a name. The answers can be changed later from the
same link.
"""

from flask import render_template, request, url_for
from wtforms import StringField, TextAreaField

from booking.errors import error_response
from booking.services.errors import DomainError, NotFound
from booking.services.plans import evaluations
from booking.web.account.blueprint import bp
from booking.web.forms import Checkbox, Form, put_domain_error, status_for

# The page names a family's booking behind a secret link: never kept by a browser or
# a shared cache, and the link is never sent elsewhere as a Referer.
HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "same-origin"}
EXPIRED = "This form had expired. Please try again."
PUBLIC_LABEL = (
    "You may show my words on the instructor's and the centre's pages (without my name)"
)


class EvaluationForm(Form):
    """The answers; the rules they must meet live in the evaluations service. The two
    scales render as radio buttons in fieldsets (templates/account/evaluate.html)."""

    confidence_before = StringField("Before the course")
    confidence_after = StringField("Now")
    helped = TextAreaField("What helped most?")
    public = Checkbox(PUBLIC_LABEL)


def _not_found(message: str):
    """The 404 page for a link that is not (or no longer) valid."""
    body, status = error_response(404, message)
    return body, status, HEADERS


def _filled(question) -> EvaluationForm:
    """The form holding the answers given so far (empty before the first answer)."""
    form = EvaluationForm(formdata=None)
    evaluation = question.evaluation
    if question.answered:
        form.confidence_before.data = str(evaluation.confidence_before or "")
        form.confidence_after.data = str(evaluation.confidence_after or "")
        form.helped.data = evaluation.helped
        form.public.data = evaluation.public
    return form


@bp.route("/evaluate/<token>", methods=["GET", "POST"])
def evaluate(token: str):
    """How the course went, from the link in the email at its end: no login needed."""
    try:
        registration_id = evaluations.read_evaluation_token(token)
        question = evaluations.evaluation_question(registration_id)
    except NotFound as exc:
        return _not_found(exc.message)
    status, saved = 200, False
    if request.method == "POST":
        form = EvaluationForm()
        if not form.validate():
            form.form_errors.append(EXPIRED)
            status = 400
        else:
            try:
                evaluations.answer_evaluation(
                    registration_id,
                    before=form.confidence_before.data,
                    after=form.confidence_after.data,
                    helped=form.helped.data,
                    public=form.public.data,
                )
            except NotFound as exc:
                return _not_found(exc.message)
            except DomainError as exc:
                put_domain_error(form, exc)
                status = status_for(exc)
            else:
                saved = True
                question = evaluations.evaluation_question(registration_id)
                form = _filled(question)
    else:
        form = _filled(question)
    body = render_template(
        "account/evaluate.html",
        q=question,
        form=form,
        saved=saved,
        action=url_for("account.evaluate", token=token),
        scale=evaluations.SCALE,
        helped_max=evaluations.HELPED_MAX,
    )
    return body, status, HEADERS

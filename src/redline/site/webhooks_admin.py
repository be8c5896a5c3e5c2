"""Webhooks for admins: register an endpoint and its secret, pause it, read its delivery log."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, URLField
from wtforms.validators import DataRequired, Length, Optional

from redline.notifications import outbox, webhooks
from redline.policies.errors import NotFound, RedlineError

from .app import get_db
from .notifying import current_role, current_user_id

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")


class EndpointForm(FlaskForm):
    url = URLField("Endpoint URL", validators=[DataRequired("Enter the URL that receives the POST."),
                                               Length(max=webhooks.MAX_URL)])
    secret = PasswordField("Secret", validators=[Optional(), Length(min=16, max=200)],
                           description="At least 16 characters. Leave empty and we make a strong one.")
    description = StringField("Description", validators=[Optional(), Length(max=200)])
    material_only = BooleanField("Only material changes")


class ToggleForm(FlaskForm):
    """Only a CSRF token."""


@bp.before_request
def _admins_only():
    """Deny by default: signed-in admins only; others are sent to sign in, or refused."""
    if current_user_id() is None:
        login = getattr(getattr(current_app, "login_manager", None), "login_view", None)
        if login:
            return redirect(url_for(login, next=request.full_path.rstrip("?")))
        abort(403, description="Only administrators can manage webhooks.")
    if current_role() != "admin":
        abort(403, description="Only administrators can manage webhooks.")


def _endpoint_or_404(endpoint_id: int) -> dict:
    try:
        return webhooks.get_endpoint(get_db(), endpoint_id)
    except NotFound:
        abort(404, description="There is no such webhook endpoint.")


@bp.route("/", methods=["GET", "POST"])
def index():
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            endpoint = webhooks.add_endpoint(get_db(), form.url.data, form.secret.data or "",
                                             form.description.data or "", form.material_only.data,
                                             created_by=str(current_user_id()),
                                             allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"])
        except RedlineError as exc:
            form.url.errors.append(str(exc))
        else:
            return redirect(url_for("webhooks.show", endpoint_id=endpoint["id"], created=1), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("webhooks.html", form=form, endpoints=webhooks.list_endpoints(get_db()),
                           toggle=ToggleForm()), status


@bp.get("/<int:endpoint_id>/")
def show(endpoint_id):
    endpoint = _endpoint_or_404(endpoint_id)
    db = get_db()
    counts = dict.fromkeys(outbox.STATUSES, 0)
    for status, n in db.execute("SELECT status, count(*) FROM deliveries WHERE endpoint_id = ? "
                                "GROUP BY status", [endpoint_id]):
        counts[status] = n
    return render_template("webhook.html", endpoint=endpoint, counts=counts,
                           log=webhooks.endpoint_log(db, endpoint_id), toggle=ToggleForm(),
                           created=request.args.get("created") == "1")


@bp.post("/<int:endpoint_id>/<any(pause, resume):action>")
def toggle(endpoint_id, action):
    _endpoint_or_404(endpoint_id)
    if not ToggleForm().validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    webhooks.set_active(get_db(), endpoint_id, action == "resume")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint_id), 303)

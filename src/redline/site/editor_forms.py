"""The editor's forms (Flask-WTF: every one carries a CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (BooleanField, HiddenField, IntegerField, PasswordField, RadioField,
                     SelectField, StringField, TextAreaField)
from wtforms.validators import InputRequired, Length, Optional

from redline.policies import roles

MAX_SUMMARY = 2000


class ButtonForm(FlaskForm):
    """A form that is only a button: the CSRF token is its content."""


class NewPolicyForm(FlaskForm):
    slug = StringField("Address (slug)", [InputRequired("Choose the policy's address."),
                                          Length(max=64, message="Use at most 64 characters.")])
    title = StringField("Title", [InputRequired("Give the policy a title."),
                                  Length(max=200, message="Use at most 200 characters.")])
    # Choices as plain values: the templates write the radios and their labels themselves.
    mode = RadioField("Acceptance", choices=["required", "notice"],
                      validators=[InputRequired("Choose whether users must accept the policy.")])
    description = TextAreaField("Description", [Optional(), Length(max=500)])


class DraftForm(FlaskForm):
    title = StringField("Draft name", [Optional(), Length(max=120, message="Use at most 120 characters.")])
    body = TextAreaField("Policy text (Markdown)")
    revision = IntegerField(widget=HiddenField.widget)


class ClassifyForm(FlaskForm):
    # No default on purpose: the editor decides, every time.
    material = RadioField("Is this change material?", choices=["material", "minor"],
                          validators=[InputRequired("Choose material or minor: there is no default.")])
    summary = TextAreaField("Summary for users", [Length(max=MAX_SUMMARY, message=f"Use at most {MAX_SUMMARY} characters.")])


class ScheduleForm(FlaskForm):
    effective_on = StringField("Takes effect on")
    confirm_short = BooleanField("I confirm: users get less than the usual notice")


class PublishForm(FlaskForm):
    password = PasswordField("Your password")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=list(roles.ROLES))


class FindUserForm(FlaskForm):
    email = StringField("Email address", [InputRequired("Enter an email address.")])

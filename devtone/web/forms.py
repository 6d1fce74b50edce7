"""The dashboard's HTML forms (Flask-WTF: each carries and checks its CSRF token)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from devtone.domain.agents import PASSWORD_MAX, PASSWORD_MIN
from devtone.domain.fields import NAME_MAX


class Form(FlaskForm):
    """A form read from form encodings only.

    Flask-WTF also fills a form from a JSON body; any JSON but a flat object of strings (a
    list, a number, deep nesting) then broke the page with a 500. Browsers never send
    these forms as JSON, so a JSON body is an empty form: 400, like any invalid one.
    """

    class Meta:
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if request.is_json:
                formdata = request.form  # empty: the body is not form-encoded
            return super().wrap_formdata(form, formdata)


class SignInForm(Form):
    """E-mail and password."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class AgentForm(Form):
    """A new agent, as an administrator adds them (the domain checks the values again)."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)]
    )
    admin = BooleanField(_l("Administrator"))


class ForgotPasswordForm(Form):
    """The e-mail address a reset link should go to."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(Form):
    """A new password, twice (the domain checks it against the rules again)."""

    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)]
    )
    confirm = PasswordField(
        _l("New password, again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ActionForm(Form):
    """A button that changes something: only its CSRF token."""

"""The dashboard's HTML forms (Flask-WTF: each carries and checks its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from devtone.agents import PASSWORD_MAX, PASSWORD_MIN
from devtone.fields import NAME_MAX


class SignInForm(FlaskForm):
    """E-mail and password."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class AgentForm(FlaskForm):
    """A new agent, as an administrator adds them (the domain checks the values again)."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    name = StringField("Display name", validators=[DataRequired(), Length(max=NAME_MAX)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)]
    )
    admin = BooleanField("Administrator")


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""

"""`flask --app devtone …` commands: thin calls into the schema and the domain."""

from __future__ import annotations

import secrets

import click
from flask import Flask, current_app
from flask_migrate import stamp, upgrade
from sqlalchemy import inspect, select

from devtone import config, errors
from devtone.domain import agents
from devtone.domain.models import Agent
from devtone.extensions import db

DEMO_EMAIL = "demo@example.com"
#: The revision a schema made by `db.create_all()` before migrations ran at start-up is at.
FIRST_REVISION = "0001"


def init_db(app: Flask) -> None:
    """Create the instance folder and its secret, and bring the schema to the newest revision."""
    config.write_instance_secret(app.instance_path)
    if app.config.get("SECRET_KEY_FROM_INSTANCE"):
        # Built before the secret existed (a fresh install's first start), the app holds a
        # throwaway one: every cookie it signed would be refused after the first restart.
        app.config["SECRET_KEY"] = config.read_instance_secret(app.instance_path)
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        if "conversations" in tables and "alembic_version" not in tables:
            # Made by an earlier `make run`, which created tables without Alembic.
            stamp(revision=FIRST_REVISION)
        upgrade()


def ensure_demo_agent(app: Flask) -> str | None:
    """On a database without agents, add an admin to try the dashboard; return its password."""
    with app.app_context():
        if db.session.scalar(select(Agent.id).limit(1)) is not None:
            db.session.close()
            return None
        db.session.close()
        password = secrets.token_urlsafe(12)
        agents.create_agent(DEMO_EMAIL, "Demo Agent", password, role="admin")
        return password


def register(app: Flask) -> None:
    """Add devtone's commands to `app.cli`."""

    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Create or upgrade the database schema (safe to run again)."""
        init_db(current_app._get_current_object())
        click.echo(f"Schema ready at {db.engine.url.render_as_string(hide_password=True)}")

    @app.cli.command("create-agent")
    @click.argument("email")
    @click.option("--name", required=True, help="Display name customers see.")
    @click.option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="Asked for when not given.",
    )
    @click.option("--admin", is_flag=True, help="May manage agents and assign to others.")
    def create_agent_command(email: str, name: str, password: str, admin: bool) -> None:
        """Add an agent who can sign in at /dashboard/login."""
        try:
            added = agents.create_agent(email, name, password, "admin" if admin else "agent")
        except errors.DevtoneError as error:
            raise click.ClickException(error.message) from None
        click.echo(f"Agent {added['email']} ({added['role']}) can now sign in.")

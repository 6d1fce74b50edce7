"""`flask --app devtone …` commands: thin calls into the schema and the domain."""

from __future__ import annotations

import click
from flask import Flask, current_app

from devtone import config
from devtone.extensions import db


def init_db(app: Flask) -> None:
    """Create the instance folder, its secret, and every missing table."""
    config.write_instance_secret(app.instance_path)
    with app.app_context():
        db.create_all()


def register(app: Flask) -> None:
    """Add devtone's commands to `app.cli`."""

    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Create the database schema (safe to run again)."""
        init_db(current_app._get_current_object())
        click.echo(f"Schema ready at {db.engine.url.render_as_string(hide_password=True)}")

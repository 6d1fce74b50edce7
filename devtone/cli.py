"""`flask --app devtone …` commands: thin calls into the schema and the domain."""

from __future__ import annotations

import secrets

import click
from flask import Flask, current_app
from flask_migrate import stamp, upgrade
from sqlalchemy import inspect, select

from devtone import errors, secret_key
from devtone.doctor import checks, probe, report
from devtone.domain import agents
from devtone.domain.models import Agent
from devtone.extensions import db

DEMO_EMAIL = "demo@example.com"
#: The revision a schema made by `db.create_all()` before migrations ran at start-up is at.
FIRST_REVISION = "0001"


def init_db(app: Flask) -> None:
    """Create the instance folder and its secret, and bring the schema to the newest revision."""
    secret_key.write(app.instance_path)
    if app.config.get("SECRET_KEY_FROM_INSTANCE"):
        # Built before the secret existed (a fresh install's first start), the app holds a
        # throwaway one: every cookie it signed would be refused after the first restart.
        app.config["SECRET_KEY"] = secret_key.read(app.instance_path)
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
    _register_mail(app)
    _register_visitor_data(app)

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

    @app.cli.command("doctor")
    @click.argument("url")
    def doctor_command(url: str) -> None:
        """Check the way from browsers to devtone through URL, the public address (the
        proxy in front): buffering, compression, timeouts, the clock and the HTTP
        version, with the fix for each problem. Exit status 0 only when all pass."""
        try:
            target = probe.Target.parse(url)
            findings = checks.judge(probe.observe(target))
        except (ValueError, probe.Unreachable) as error:
            raise click.ClickException(f"devtone does not answer at {url}: {error}") from None
        click.echo(report.as_text(url, findings))
        if not checks.passed(findings):
            raise SystemExit(1)


def _register_mail(app: Flask) -> None:
    """The e-mail commands (the sender and the receiver) and the webhook sender, each
    alone."""

    @app.cli.command("mail-out")
    def mail_out_command() -> None:
        """Send visitors their e-mails (unseen replies, transcripts) from this process
        alone, until interrupted. Every devtone server already does it: run this only if
        you prefer a process of its own."""
        from devtone import mail, mail_out

        app = current_app._get_current_object()
        mailer = mail.mailer_of(app)
        if mailer is None:
            raise click.ClickException("E-mail is off: set DEVTONE_SMTP_URL and DEVTONE_MAIL_FROM.")
        sender = mail_out.MailSender(app, mailer)
        click.echo(f"Sending e-mail through {mailer.server.address}; Ctrl-C stops.")
        try:
            sender.run()
        except KeyboardInterrupt:
            sender.stop()

    @app.cli.command("webhooks-out")
    def webhooks_out_command() -> None:
        """Deliver webhooks from this process alone, until interrupted. Every devtone
        server already does it: run this only if you prefer a process of its own."""
        from devtone import webhooks_out

        sender = webhooks_out.WebhookSender(current_app._get_current_object())
        click.echo("Delivering webhooks; Ctrl-C stops.")
        try:
            sender.run()
        except KeyboardInterrupt:
            sender.stop()

    @app.cli.command("mail-in")
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
    @click.option("--port", default=2525, show_default=True, help="Port to listen on.")
    def mail_in_command(host: str, port: int) -> None:
        """Receive visitors' replies to devtone's e-mails over SMTP and post them into
        their conversations, until interrupted."""
        import threading

        from devtone import mail_in

        app = current_app._get_current_object()
        try:
            controller = mail_in.receiver(app, host, port)
        except ValueError as problem:
            raise click.ClickException(f"mail-in cannot start: {problem}") from None
        controller.start()
        click.echo(f"Receiving replies by SMTP on {host}:{port}; Ctrl-C stops.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()


def _register_visitor_data(app: Flask) -> None:
    """A visitor's data on request (docs/privacy.md): export it, erase it."""

    @app.cli.command("visitor-export")
    @click.option("--email", help="The address the visitor gave.")
    @click.option("--identity", help="The id the site signed for the visitor (identify()).")
    @click.option(
        "--output",
        type=click.Path(dir_okay=False, writable=True),
        help="The JSON file to write (default: standard output).",
    )
    def visitor_export_command(email: str | None, identity: str | None, output: str | None) -> None:
        """Export everything devtone holds about a visitor as one JSON document."""
        from devtone.domain import audit, visitor_export
        from devtone.file_store import files_of

        try:
            found = visitor_export.export_visitor(email, audit.CLI, identity)
        except errors.DevtoneError as error:
            raise click.ClickException(error.message) from None
        store = files_of(current_app)
        if output is None:
            for chunk in found.chunks(store):
                click.echo(chunk, nl=False)  # in the terminal's encoding, whatever it is
            return
        with open(output, "w", encoding="utf-8") as out:
            found.write_to(out, store)
        click.echo(f"{len(found.conversation_ids)} conversation(s) exported to {output}", err=True)

    @app.cli.command("visitor-erase")
    @click.option("--email", help="The address the visitor gave.")
    @click.option("--identity", help="The id the site signed for the visitor (identify()).")
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def visitor_erase_command(email: str | None, identity: str | None, yes: bool) -> None:
        """Erase a visitor's messages, files, e-mails, name and address for good; their
        conversations stay as anonymous shells for the statistics."""
        from devtone.domain import audit, erasure
        from devtone.file_store import files_of

        if not yes:
            click.confirm(
                f"Erase every conversation of {email or identity} for good? This cannot be undone.",
                abort=True,
            )
        try:
            erased = erasure.erase_visitor(email, audit.CLI, files_of(current_app), identity)
        except errors.DevtoneError as error:
            raise click.ClickException(error.message) from None
        click.echo(
            f"{erased['conversations']} conversation(s) and {erased['files']} file(s) erased."
        )

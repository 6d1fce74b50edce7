"""A password reset link's address, how long links work, and the e-mail that carries one."""

from __future__ import annotations

from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage

from flask import current_app, render_template, url_for

from devtone import mail
from devtone.domain.password_resets import ResetLink


def lifetime() -> timedelta:
    """How long a new link works (DEVTONE_RESET_LINK_LIFETIME)."""
    return timedelta(seconds=current_app.config["RESET_LINK_LIFETIME"])


def minutes() -> int:
    """The same, in whole minutes, for the pages and the e-mail."""
    return max(1, round(current_app.config["RESET_LINK_LIFETIME"] / 60))


def link_address(token: str) -> str:
    """The link's absolute address: on DEVTONE_PUBLIC_URL when it is set, else on the
    address this request came to (its scheme from a trusted proxy, web/proxies.py)."""
    public = current_app.config["PUBLIC_URL"]
    if public:
        return public + url_for("password_reset.open_link", token=token)
    return url_for("password_reset.open_link", token=token, _external=True)


def reset_email(link: ResetLink, sender: str) -> EmailMessage:
    """The e-mail that gives the agent their link (its words are in the template)."""
    body = render_template(
        "mail/reset_password.txt",
        agent=link.agent,
        address=link_address(link.token),
        minutes=minutes(),
    )
    # One line: a line break would end the header (Django keeps its subject apart too).
    subject = " ".join(render_template("mail/reset_password_subject.txt").split())
    to = Address(display_name=link.agent.name, addr_spec=link.agent.email)
    return mail.compose(sender, str(to), subject, body)

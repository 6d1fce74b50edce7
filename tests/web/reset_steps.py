"""What the password reset tests do over HTTP, in the user's own words."""

import re
from urllib.parse import urlsplit

from tests.conftest import _CSRF_INPUT

_LINK = re.compile(r'id="reset-link-address"[^>]*>([^<]+)</textarea>')
_PROBLEM = re.compile(r'data-problem="([a-z_]+)"')
_MAILED_LINK = re.compile(r"(https?://\S+/dashboard/reset/[\w-]+)")


def make_link(admin_client, agent_id, **form):
    """The admin presses "Make a reset link" (or, with send="email", "E-mail a reset link")."""
    return admin_client.client.post(
        f"/dashboard/agents/{agent_id}/reset-link",
        data={"csrf_token": admin_client.csrf_token, **form},
    )


def link_on(page) -> str:
    """The link the admin's page shows."""
    return _LINK.search(page.get_data(as_text=True)).group(1)


def link_in(email) -> str:
    """The link an e-mail carries."""
    return _MAILED_LINK.search(email.get_content()).group(1)


def problem_on(page) -> str | None:
    """Why the page says a reset cannot go on (None: it says nothing of the kind)."""
    found = _PROBLEM.search(page.get_data(as_text=True))
    return found.group(1) if found else None


def open_link(client, link):
    """Open a link (absolute or a path) as a browser would."""
    return client.get(urlsplit(link).path)


def choose_password(client, password, confirm=None, **extra):
    """Fill in the new-password form of the link this browser opened, and send it."""
    page = client.get("/dashboard/new-password").get_data(as_text=True)
    found = _CSRF_INPUT.search(page)
    data = {"password": password, "confirm": password if confirm is None else confirm}
    if found:
        data["csrf_token"] = found.group(1)
    return client.post("/dashboard/new-password", data={**data, **extra})


def sign_in_with(client, email, password):
    """The sign-in form, as an agent fills it in."""
    page = client.get("/dashboard/login").get_data(as_text=True)
    token = _CSRF_INPUT.search(page).group(1)
    return client.post(
        "/dashboard/login", data={"email": email, "password": password, "csrf_token": token}
    )


def ask_for_a_link(client, email, address="127.0.0.1"):
    """The forgotten-password form, as an agent fills it in (from client `address`)."""
    where = {"REMOTE_ADDR": address}
    page = client.get("/dashboard/forgot-password", environ_base=where).get_data(as_text=True)
    token = _CSRF_INPUT.search(page).group(1)
    return client.post(
        "/dashboard/forgot-password",
        data={"email": email, "csrf_token": token},
        environ_base=where,
    )

"""One-time password reset links: issued by admins (or for an address, by e-mail), single
use, expiring, voided by a newer one; using one sets the password and ends every session."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from devtone.domain import agents, password_resets
from devtone.domain.models import PasswordReset, utcnow
from devtone.errors import Conflict, Forbidden, Invalid, NotFound
from devtone.extensions import db

HOUR = timedelta(hours=1)
NEW_PASSWORD = "a brand new secret"


@pytest.fixture
def issue(app, admin):
    """Issue a link for an agent as the admin: issue(account) → ResetLink."""

    def issue(account, lifetime=HOUR):
        with app.app_context():
            return password_resets.issue_reset_link(account.id, admin.identity, lifetime)

    return issue


def reset(app, token, password=NEW_PASSWORD):
    with app.app_context():
        return password_resets.reset_password(token, password, "test browser")


def signs_in(app, account, password) -> bool:
    with app.app_context():
        return agents.authenticate(account.email, password) is not None


def problem_with(app, token) -> str:
    with app.app_context(), pytest.raises((NotFound, Conflict)) as refused:
        password_resets.link_holder(token)
    return refused.value.code


def test_a_link_sets_a_new_password_and_the_old_one_stops_working(app, agent, issue):
    link = issue(agent)
    assert link.agent.email == agent.email
    with app.app_context():
        assert password_resets.link_holder(link.token).id == agent.id
    signed_in = reset(app, link.token)
    assert (signed_in.id, signed_in.email) == (agent.id, agent.email)
    assert signed_in.session  # the holder is signed in, in a session of their own
    with app.app_context():
        assert agents.load_agent(signed_in.session).id == agent.id
    assert signs_in(app, agent, NEW_PASSWORD)
    assert not signs_in(app, agent, agent.password)


def test_a_link_works_once(app, agent, issue):
    link = issue(agent)
    reset(app, link.token)
    with app.app_context(), pytest.raises(NotFound) as refused:
        password_resets.reset_password(link.token, "yet another secret")
    assert refused.value.code == "reset_link_used"
    assert problem_with(app, link.token) == "reset_link_used"
    assert signs_in(app, agent, NEW_PASSWORD)


def test_a_newer_link_voids_the_older_ones(app, agent, issue):
    first, second = issue(agent), issue(agent)
    assert problem_with(app, first.token) == "reset_link_replaced"
    with app.app_context(), pytest.raises(NotFound):
        password_resets.reset_password(first.token, "from the old link")
    reset(app, second.token)
    assert signs_in(app, agent, NEW_PASSWORD)


def test_a_link_for_one_agent_leaves_anothers_link_alone(app, agent, make_agent, issue):
    lee = make_agent("Lee")
    for_maria, for_lee = issue(agent), issue(lee)
    reset(app, for_maria.token)
    reset(app, for_lee.token, "lees new secret")
    assert signs_in(app, lee, "lees new secret")


def test_a_link_expires_after_its_lifetime(app, agent, issue, monkeypatch):
    link = issue(agent, lifetime=HOUR)
    issued = utcnow()
    monkeypatch.setattr(password_resets, "utcnow", lambda: issued + HOUR + timedelta(seconds=1))
    assert problem_with(app, link.token) == "reset_link_expired"
    with app.app_context(), pytest.raises(NotFound):
        password_resets.reset_password(link.token, NEW_PASSWORD)
    assert signs_in(app, agent, agent.password)


def test_a_link_still_works_just_before_it_expires(app, agent, issue, monkeypatch):
    link = issue(agent, lifetime=HOUR)
    issued = utcnow()
    monkeypatch.setattr(password_resets, "utcnow", lambda: issued + HOUR - timedelta(seconds=5))
    reset(app, link.token)
    assert signs_in(app, agent, NEW_PASSWORD)


@pytest.mark.parametrize("token", ["", "x", "nope" * 100, "\x00abc", "ção-🔑"])
def test_an_unknown_token_opens_nothing(app, agent, issue, token):
    issue(agent)
    assert problem_with(app, token) == "reset_link_unknown"
    with app.app_context(), pytest.raises(NotFound):
        password_resets.reset_password(token, NEW_PASSWORD)
    assert signs_in(app, agent, agent.password)


def test_a_deactivated_agent_cannot_reset_and_gets_no_link(app, agent, admin, issue):
    link = issue(agent)
    with app.app_context():
        agents.set_active(agent.id, False, admin.identity)
    assert problem_with(app, link.token) == "agent_inactive"
    with app.app_context(), pytest.raises(Conflict):
        password_resets.reset_password(link.token, NEW_PASSWORD)
    with app.app_context(), pytest.raises(Conflict) as refused:
        password_resets.issue_reset_link(agent.id, admin.identity, HOUR)
    assert refused.value.code == "agent_inactive"
    with app.app_context():
        agents.set_active(agent.id, True, admin.identity)
    assert signs_in(app, agent, agent.password)  # nothing changed meanwhile


def test_using_a_link_ends_every_session_of_the_agent(app, agent, make_agent, issue):
    lee = make_agent("Lee")
    with app.app_context():
        laptop = agents.sign_in(agent.email, agent.password)
        phone = agents.sign_in(agent.email, agent.password)
        colleague = agents.sign_in(lee.email, lee.password)
    signed_in = reset(app, issue(agent).token)
    with app.app_context():
        assert agents.load_agent(laptop.session) is None
        assert agents.load_agent(phone.session) is None
        assert agents.load_agent(colleague.session) is not None
        assert [s["current"] for s in agents.open_sessions(signed_in)] == [True]


@pytest.mark.parametrize(
    ("password", "code"),
    [("", "too_short"), ("short", "too_short"), ("x" * 1025, "too_long"), (None, "too_short")],
)
def test_the_password_rules_are_those_of_new_agents_and_a_refusal_keeps_the_link(
    app, agent, issue, password, code
):
    link = issue(agent)
    with app.app_context():
        laptop = agents.sign_in(agent.email, agent.password)
    with app.app_context(), pytest.raises(Invalid) as refused:
        password_resets.reset_password(link.token, password)
    assert (refused.value.code, refused.value.field) == (code, "password")
    with app.app_context():
        assert agents.load_agent(laptop.session) is not None  # nothing ended
    assert signs_in(app, agent, agent.password)
    reset(app, link.token)  # the link still works
    assert signs_in(app, agent, NEW_PASSWORD)


@pytest.mark.parametrize(
    "password", ["pässwörd-ção", "日本語のパスワード", "🔑🔑🔑🔑🔑🔑🔑🔑", "x" * 1024]
)
def test_any_text_within_the_limits_is_a_password(app, agent, issue, password):
    reset(app, issue(agent).token, password)
    assert signs_in(app, agent, password)


def test_only_administrators_issue_links_and_for_themselves_too(app, agent, admin, make_agent):
    lee = make_agent("Lee")
    with app.app_context():
        for target in (lee.id, agent.id):
            with pytest.raises(Forbidden):
                password_resets.issue_reset_link(target, agent.identity, HOUR)
        own = password_resets.issue_reset_link(admin.id, admin.identity, HOUR)
        with pytest.raises(NotFound):
            password_resets.issue_reset_link(999_999, admin.identity, HOUR)
    reset(app, own.token)
    assert signs_in(app, admin, NEW_PASSWORD)


def test_the_database_keeps_only_a_digest_of_the_token(app, agent, issue):
    link = issue(agent)
    with app.app_context():
        stored = db.session.scalars(select(PasswordReset)).one()
        db.session.remove()
    assert link.token not in stored.token_hash
    assert len(stored.token_hash) == 64
    assert stored.expires_at - stored.created_at == HOUR


def test_a_link_for_an_address_goes_to_its_active_agent_only(app, agent, admin, make_agent):
    lee = make_agent("Lee")
    with app.app_context():
        agents.set_active(lee.id, False, admin.identity)
        found = password_resets.issue_reset_link_for(f"  {agent.email.upper()} ", HOUR)
        assert found.agent.id == agent.id
        for nobody in ("nobody@example.com", lee.email, "", None, 42, "a\x00@example.com"):
            assert password_resets.issue_reset_link_for(nobody, HOUR) is None
        assert db.session.scalar(select(db.func.count()).select_from(PasswordReset)) == 1
        db.session.remove()
    reset(app, found.token)
    assert signs_in(app, agent, NEW_PASSWORD)

"""/api/canned-replies: the team's replies (admins keep them) and each agent's own."""

import pytest

from devtone.domain import canned_replies
from devtone.errors import Invalid


def _put(agent_client, path, body):
    return agent_client.client.put(
        path, json=body, headers={"X-CSRFToken": agent_client.csrf_token}
    )


def _delete(agent_client, path):
    return agent_client.client.delete(path, headers={"X-CSRFToken": agent_client.csrf_token})


def _create(agent_client, shortcut, text="Hello {visitor.name}!", shared=False):
    answer = agent_client.post(
        "/api/canned-replies", json={"shortcut": shortcut, "text": text, "shared": shared}
    )
    assert answer.status_code == 201, answer.get_data()[:300]
    return answer.get_json()["canned_reply"]


def _shortcuts(agent_client):
    answer = agent_client.get("/api/canned-replies")
    assert answer.status_code == 200
    return [(r["shortcut"], r["shared"]) for r in answer.get_json()["canned_replies"]]


def test_every_agent_sees_the_team_replies_and_only_their_own(make_agent, sign_in):
    boss, maria, joana = (sign_in(make_agent(n, role)) for n, role in
                          [("Boss", "admin"), ("Maria", "agent"), ("Joana", "agent")])  # fmt: skip
    _create(boss, "thanks", "Thank you, {visitor.name}!", shared=True)
    _create(maria, "hi", "Oi, aqui é a {agent.name}.")
    _create(joana, "bye")
    assert _shortcuts(maria) == [("hi", False), ("thanks", True)]
    assert _shortcuts(joana) == [("bye", False), ("thanks", True)]
    assert _shortcuts(boss) == [("thanks", True)]


def test_only_admins_keep_team_replies(admin, agent, sign_in):
    boss, maria = sign_in(admin), sign_in(agent)
    refused = maria.post("/api/canned-replies", json={"shortcut": "x", "text": "y", "shared": True})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "admins_only"
    team = _create(boss, "thanks", shared=True)
    seen = maria.get("/api/canned-replies").get_json()["canned_replies"][0]
    assert seen["editable"] is False
    path = f"/api/canned-replies/{team['id']}"
    assert _put(maria, path, {"text": "mine now"}).status_code == 403
    assert _delete(maria, path).status_code == 403
    changed = _put(boss, path, {"text": "Thanks a lot!"})
    assert changed.status_code == 200
    assert changed.get_json()["canned_reply"]["text"] == "Thanks a lot!"
    assert _delete(boss, path).status_code == 204
    assert _shortcuts(maria) == []


def test_another_agents_own_reply_does_not_exist_for_you(make_agent, sign_in):
    maria, joana = sign_in(make_agent("Maria")), sign_in(make_agent("Joana"))
    mine = _create(maria, "hi")
    path = f"/api/canned-replies/{mine['id']}"
    assert _put(joana, path, {"text": "stolen"}).status_code == 404
    assert _delete(joana, path).status_code == 404
    assert (
        _put(maria, path, {"shortcut": "hello"}).get_json()["canned_reply"]["shortcut"] == "hello"
    )


def test_a_shortcut_is_unique_within_its_scope_only(admin, agent, sign_in):
    boss, maria = sign_in(admin), sign_in(agent)
    _create(maria, "thanks")
    _create(boss, "thanks", shared=True)  # the team's: another scope
    again = maria.post("/api/canned-replies", json={"shortcut": "/Thanks", "text": "again"})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "shortcut_taken"
    assert again.get_json()["error"]["field"] == "shortcut"
    other = _create(maria, "other")
    renamed = _put(maria, f"/api/canned-replies/{other['id']}", {"shortcut": "thanks"})
    assert renamed.status_code == 409
    assert _shortcuts(maria) == [("other", False), ("thanks", True), ("thanks", False)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"shortcut": "two words", "text": "x"}, "shortcut"),
        ({"shortcut": "", "text": "x"}, "shortcut"),
        ({"shortcut": "a" * 41, "text": "x"}, "shortcut"),
        ({"shortcut": 5, "text": "x"}, "shortcut"),
        ({"shortcut": "ok", "text": "   "}, "text"),
        ({"shortcut": "ok", "text": "x" * 4001}, "text"),
        ({"shortcut": "ok"}, "text"),
        ({"shortcut": "ok", "text": "x", "shared": "yes"}, "shared"),
    ],
)
def test_a_bad_reply_is_422_naming_the_field_and_saves_nothing(agent, sign_in, body, field):
    maria = sign_in(agent)
    answer = maria.post("/api/canned-replies", json=body)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == field
    assert _shortcuts(maria) == []


def test_visitors_and_strangers_get_no_replies(client, visitor):
    assert client.get("/api/canned-replies").status_code == 401
    assert client.get("/api/canned-replies", headers=visitor.headers).status_code == 403


@pytest.mark.parametrize(
    ("typed", "kept"), [("/Obrigado", "obrigado"), ("ação", "ação"), ("  hi-2 ", "hi-2")]
)
def test_a_shortcut_is_kept_lower_case_without_its_slash(typed, kept):
    assert canned_replies.clean_shortcut(typed) == kept


@pytest.mark.parametrize("typed", ["a/b", "tab\there", "nul\x00"])
def test_a_shortcut_is_one_word(typed):
    with pytest.raises(Invalid):
        canned_replies.clean_shortcut(typed)


def test_the_page_adds_changes_and_deletes_a_reply(agent, sign_in):
    maria = sign_in(agent)
    page = maria.get("/dashboard/canned-replies")
    assert page.status_code == 200
    form = {"csrf_token": maria.csrf_token, "shortcut": "hi", "text": "Olá {visitor.name}!"}
    assert maria.client.post("/dashboard/canned-replies", data=form).status_code == 302
    reply = maria.get("/api/canned-replies").get_json()["canned_replies"][0]
    taken = maria.client.post("/dashboard/canned-replies", data=form)
    assert taken.status_code == 409
    assert "/hi" in taken.get_data(as_text=True)
    path = f"/dashboard/canned-replies/{reply['id']}"
    changed = maria.client.post(path, data={**form, "text": "Olá!"})
    assert changed.status_code == 302
    assert maria.get("/api/canned-replies").get_json()["canned_replies"][0]["text"] == "Olá!"
    deleted = maria.client.post(path, data={"csrf_token": maria.csrf_token, "action": "delete"})
    assert deleted.status_code == 302
    assert _shortcuts(maria) == []

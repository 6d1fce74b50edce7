"""What the browser tests do on the chat page, in the page's own words."""

import uuid
from pathlib import Path

import requests
from playwright.sync_api import expect

#: What start_chat's visitor writes first: a conversation starts with its first message.
FIRST = "Hi, I have a question"


def start_chat(page, url, name, state="live", tier="sse", first=FIRST):
    """Open /chat, say who you are, send `first` (which starts the conversation), wait for
    the tier; return the stored visitor."""
    page.goto(f"{url}/chat")
    page.fill("#start-name", name)
    page.click("#start-form button[type=submit]")
    type_message(page, first)
    expect(page.locator("#connection")).to_have_attribute("data-state", state, timeout=15_000)
    expect(page.locator("#connection")).to_have_attribute("data-tier", tier, timeout=15_000)
    return page.evaluate("JSON.parse(localStorage.getItem('devtone.visitor'))")


def api_post(url, visitor, body):
    """Post as the visitor through the HTTP API (what another tab or an agent would do)."""
    answer = requests.post(
        f"{url}/api/conversations/{visitor['conversationId']}/messages",
        json={"body": body, "client_id": str(uuid.uuid4())},
        headers={"Authorization": f"Bearer {visitor['token']}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["message"]


def first_message(url, session, body):
    """The first message of a conversation started through the domain (`start_visitor`):
    it lists the conversation for agents."""
    return api_post(url, {"conversationId": session.id, "token": session.token}, body)


def type_message(page, body):
    page.fill("#message-body", body)
    page.press("#message-body", "Enter")


def shown(page):
    """(seq, body) of every confirmed message on the page, in page order."""
    return page.eval_on_selector_all(
        "#messages li.message:not(.message--pending)",
        "items => items.map(li => [Number(li.dataset.seq),"
        " li.querySelector('.message__body').textContent])",
    )


def expect_shown_once_in_order(page, bodies, timeout=15_000):
    """Exactly these bodies, each once, with seq 1..n in page order."""
    expect(page.locator("#messages li.message:not(.message--pending)")).to_have_count(
        len(bodies), timeout=timeout
    )
    seen = shown(page)
    assert [seq for seq, _ in seen] == list(range(1, len(bodies) + 1)), seen
    assert sorted(body for _, body in seen) == sorted(bodies), seen


def documented_nginx(marker: str) -> str:
    """The nginx block of docs/deploy.md that starts with `# <marker>`, exactly as given
    to operators."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text()
    return doc.split(f"# {marker}\n", 1)[1].split("```", 1)[0]


def documented_api_location() -> str:
    """The nginx `location /api/` block exactly as docs/deploy.md gives it to operators."""
    block = documented_nginx("devtone-api-location")
    assert block.lstrip().startswith("location /api/ {")
    return block


def documented_access_log() -> str:
    """The http block's `log_format` and `access_log` as docs/deploy.md gives them."""
    block = documented_nginx("devtone-access-log")
    assert "log_format devtone" in block and "access_log " in block
    return block

"""/chat and /embed greet an empty conversation: the team's name and its reply time come
with the page, so the greeting needs no request of its own."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from devtone.domain import conversations
from devtone.domain.visitors import Visitor
from tests.conftest import app_on

PAGES = ["/chat", "/embed"]


@pytest.fixture
def app(database_url, redis_url, redis_channel):
    with app_on(database_url, redis_url, redis_channel, TEAM_NAME="<Acme> & co") as app:
        yield app


def reply_seconds(page: str) -> str:
    return re.search(r'data-typical-reply-seconds="([^"]*)"', page).group(1)


@pytest.mark.parametrize("path", PAGES)
def test_the_page_greets_with_the_team_name_as_text(client, path):
    page = client.get(path).get_data(as_text=True)
    assert '<p class="greeting__team">&lt;Acme&gt; &amp; co</p>' in page
    assert "<Acme>" not in page
    assert reply_seconds(page) == ""  # nobody answered yet: the page says nothing it cannot keep


@pytest.mark.parametrize("path", PAGES)
def test_the_page_carries_the_median_first_reply_of_the_week(app, client, agent, clock, path):
    with app.app_context():
        for minutes in (5, 15, 40):
            clock.now = datetime.now(UTC) - timedelta(days=3)
            conversation, token = conversations.start_conversation(f"Waited {minutes}")
            conversations.post_message(conversation["id"], Visitor(token), "hello?")
            clock.now += timedelta(minutes=minutes)
            conversations.post_message(conversation["id"], agent.identity, "here")
    assert float(reply_seconds(client.get(path).get_data(as_text=True))) == 15 * 60

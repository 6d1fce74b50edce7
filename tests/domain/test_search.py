"""domain/search.py on both engines (FTS5 on SQLite, the tsvector column on PostgreSQL):
what it finds, how it narrows, ranks and pages, and the snippet's marked parts."""

from datetime import timedelta

import pytest

from devtone.domain import conversations, labels, search
from devtone.domain.visitors import Visitor
from devtone.errors import BadRequest, Invalid
from tests.conftest import CLOCK_START


@pytest.fixture
def say(app, start_visitor):
    """Start a conversation as `name` and post each body as the visitor."""

    def say(*bodies: str, name: str = "Ada", email: str | None = None):
        session = start_visitor(name, email)
        with app.app_context():
            for body in bodies:
                conversations.post_message(session.id, Visitor(session.token), body)
        return session

    return say


def _found(app, **query):
    with app.app_context():
        return search.search(**query)


def _hit_words(result):
    return [part["text"] for part in result["snippet"] if part["hit"]]


def test_a_word_finds_the_message_that_has_it_with_the_hit_marked(app, say):
    session = say("Bom dia", "Quero um reembolso do pedido 42", name="Joana")
    say("Outra coisa", name="Bruno")
    found = _found(app, q="reembolso")
    assert [r["conversation"]["id"] for r in found["results"]] == [session.id]
    result = found["results"][0]
    assert result["message"]["seq"] == 2
    assert _hit_words(result) == ["reembolso"]
    assert "".join(part["text"] for part in result["snippet"]) == "Quero um reembolso do pedido 42"
    assert found["next_page"] is None


def test_the_last_word_matches_as_a_prefix_as_one_types(app, say):
    session = say("Quero um reembolso")
    assert [r["conversation"]["id"] for r in _found(app, q="reemb")["results"]] == [session.id]


def test_every_word_must_match(app, say):
    both = say("a fatura de março veio errada")
    say("a fatura chegou")
    found = _found(app, q="fatura errada")
    assert [r["conversation"]["id"] for r in found["results"]] == [both.id]


def test_the_visitors_name_and_email_are_found_and_come_first(app, say):
    by_name = say("oi", name="Marta Souza", email="marta@example.com")
    mentions = say("falei com a marta ontem", name="Rui")
    found = _found(app, q="marta")
    assert [r["conversation"]["id"] for r in found["results"]] == [by_name.id, mentions.id]
    assert "message" not in found["results"][0]
    assert _hit_words(found["results"][0]) == ["Marta", "marta"]  # name and e-mail
    by_email = _found(app, q="marta@example.com")["results"]
    assert by_email[0]["conversation"]["id"] == by_name.id


def test_what_devtone_writes_in_the_log_is_not_searched(app, say, agent):
    session = say("olá")
    with app.app_context():
        conversations.close_conversation(session.id, agent.identity)
    assert _found(app, q="closed")["results"] == []


def test_label_status_and_agent_narrow_the_results(app, say, admin, agent, make_agent):
    vip, plain, other = say("pedido atrasado"), say("pedido atrasado"), say("pedido atrasado")
    joana = make_agent("Joana")
    with app.app_context():
        labels.create_label(admin.identity, "VIP", "teal")
        labels.set_conversation_labels(vip.id, agent.identity, ["VIP"])
        conversations.assign_conversation(plain.id, agent.identity)
        conversations.assign_conversation(other.id, joana.identity)
        conversations.close_conversation(other.id, joana.identity)

    def ids(**narrow):
        return [r["conversation"]["id"] for r in _found(app, q="pedido", **narrow)["results"]]

    assert ids(label="vip") == [vip.id]
    assert ids(label="nobody's label") == []
    assert ids(status="closed") == [other.id]
    assert ids(agent_id=agent.id) == [plain.id]
    assert sorted(ids()) == sorted([vip.id, plain.id, other.id])
    # No words: every conversation that fits, newest activity first.
    assert [r["conversation"]["id"] for r in _found(app, label="VIP")["results"]] == [vip.id]
    assert [r["conversation"]["labels"] for r in _found(app, label="VIP")["results"]] == [["VIP"]]


def test_dates_narrow_by_when_the_message_was_written(app, say, clock):
    clock.at(10)
    march = say("segunda via do boleto")
    clock.now = CLOCK_START + timedelta(days=30)
    april = say("segunda via do boleto")

    def ids(**dates):
        return [r["conversation"]["id"] for r in _found(app, q="boleto", **dates)["results"]]

    assert ids(until="2026-03-10") == [march.id]
    assert ids(since="2026-03-11") == [april.id]
    assert ids(since="2026-03-10T00:00:00Z", until="2026-03-10T23:59:59+00:00") == [march.id]


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", "2026-03-10T10:00:00", "10/03/2026"])
def test_a_date_that_is_not_one_is_a_bad_request(app, since):
    with app.app_context(), pytest.raises(BadRequest) as raised:
        search.search(q="x", since=since)
    assert raised.value.field == "from"


@pytest.mark.parametrize("query", [{"q": "x" * 201}, {"status": "open"}])
def test_a_query_out_of_bounds_is_invalid(app, query):
    with app.app_context(), pytest.raises(Invalid):
        search.search(**query)


def test_results_come_in_pages(app, say):
    for n in range(search.PAGE_SIZE + 3):
        say(f"cancelamento número {n}")
    first = _found(app, q="cancelamento")
    assert len(first["results"]) == search.PAGE_SIZE
    assert first["next_page"] == 2
    second = _found(app, q="cancelamento", page=2)
    assert len(second["results"]) == 3
    assert second["next_page"] is None
    ids = [r["message"]["conversation_id"] for r in first["results"] + second["results"]]
    assert len(set(ids)) == search.PAGE_SIZE + 3


def test_query_syntax_is_only_text(app, say):
    # Not an HTML tag: PostgreSQL's parser leaves tags (<img …>) out of the index.
    session = say('Escrevi "quoted" AND NEAR(x) onerror=alert(1)')
    found = _found(app, q='onerror" * NEAR(')
    assert [r["conversation"]["id"] for r in found["results"]] == [session.id]
    # No word at all: every conversation, as with no query.
    assert len(_found(app, q="___ ***")["results"]) == 1
    assert _found(app, q="")["results"][0]["conversation"]["id"] == session.id


def test_more_hits_rank_higher(app, say):
    once = say("o frete demorou")
    often = say("frete frete: o frete ainda não chegou")
    found = _found(app, q="frete")
    assert [r["conversation"]["id"] for r in found["results"]] == [often.id, once.id]


def test_a_snippet_of_a_long_message_is_cut_around_its_first_hit():
    text = "palavra " * 40 + "rastreamento do pedido " + "fim " * 80
    parts = search.snippet(text, ["rastreamento"])
    assert parts[0] == {"text": "…", "hit": False}
    assert parts[-1] == {"text": "…", "hit": False}
    assert [p["text"] for p in parts if p["hit"]] == ["rastreamento"]
    assert sum(len(p["text"]) for p in parts) <= search.SNIPPET_LENGTH + 2


def test_a_snippet_ignores_case_and_accents():
    parts = search.snippet("Não recebi a NOTIFICAÇÃO", ["nao", "notificacao"])
    assert [p["text"] for p in parts if p["hit"]] == ["Não", "NOTIFICAÇÃO"]

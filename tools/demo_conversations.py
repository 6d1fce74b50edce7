"""A support desk's afternoon, written through the domain for the screenshots.

Every message goes through `conversations.*` (as the API would post it), so seq, read
marks and the statistics are what a real desk would have. Only the clock is set, the way
the tests' `clock` fixture sets it: yesterday's messages get yesterday's time, so the
pages show a day line.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from devtone.domain import agents, conversations, log_writer, visitors

AGENT_EMAIL = "maria@example.com"
AGENT_NAME = "Maria Oliveira"
#: Only ever on a loopback port of a throwaway database.
AGENT_PASSWORD = "screenshots only"  # noqa: S105


@dataclass(frozen=True)
class Chat:
    """A visitor's conversation: what the browser keeps to resume it (visitor-store.js)."""

    name: str
    conversation_id: int
    token: str
    started_at: str

    def stored(self) -> dict:
        return {
            "name": self.name,
            "conversationId": self.conversation_id,
            "token": self.token,
            "startedAt": self.started_at,
        }


# (minutes before now, or "yesterday": 16:40 on, two minutes apart; who; text)
ADA = [
    ("yesterday", "visitor", "Hi! My order #4821 hasn't arrived yet."),
    ("yesterday", "visitor", "It was due on Monday."),
    ("yesterday", "agent", "Hi Ada, sorry about that! Let me check with the courier."),
    (9, "agent", "Good news: it's out for delivery and should reach you by 6 pm today."),
    (8, "agent", "I'll keep this conversation open until it arrives."),
    (6, "visitor", "That's great, thank you!"),
]
ANA = [
    ("yesterday", "visitor", "Oi! Meu pedido #4822 ainda não chegou."),
    ("yesterday", "visitor", "Era para ter chegado na segunda-feira."),
    ("yesterday", "agent", "Olá, Ana! Desculpe a demora. Vou verificar com a transportadora."),
    (7, "agent", "Boa notícia: já saiu para entrega e chega hoje até as 18h."),
    (6, "agent", "Deixo a conversa aberta até o pedido chegar."),
    (4, "visitor", "Que ótimo, muito obrigada!"),
]
# Waiting for an answer: the queue is not empty on the dashboard.
WAITING = [
    ("Grace Hopper", [(3, "visitor", "Do you ship to Oslo?")]),
    ("Lucas Pereira", [(2, "visitor", "Vocês entregam em Portugal?")]),
]


class Clock:
    """The domain's clock while seeding: the time each message is written at."""

    def __init__(self, now: datetime):
        self.now = now
        self.at = now

    def __call__(self) -> datetime:
        return self.at


def seed(now: datetime | None = None) -> dict[str, Chat]:
    """Write the desk's conversations (in an app context); return the two shown, by
    language: {"en": Ada's, "pt-BR": Ana's}."""
    clock = Clock(now or datetime.now(UTC))
    # As the tests' clock fixture does; the server process keeps the real clock.
    log_writer.utcnow = conversations.utcnow = clock
    agents.create_agent(AGENT_EMAIL, AGENT_NAME, AGENT_PASSWORD)
    maria = agents.authenticate(AGENT_EMAIL, AGENT_PASSWORD)
    yesterday = (clock.now - timedelta(days=1)).replace(hour=16, minute=40, second=0)

    def write(name: str, script: list) -> Chat:
        first = script[0][0]
        clock.at = yesterday if first == "yesterday" else clock.now - timedelta(minutes=first)
        started, token = conversations.start_conversation(name)
        visitor = visitors.Visitor(token)
        for step, (when, who, text) in enumerate(script):
            if when == "yesterday":
                clock.at = yesterday + timedelta(minutes=2 * step)
            else:
                clock.at = clock.now - timedelta(minutes=when)
            caller = visitor if who == "visitor" else maria
            conversations.post_message(started["id"], caller, text, str(uuid.uuid4()))
        return Chat(name, started["id"], token, started["created_at"])

    shown = {"en": write("Ada", ADA), "pt-BR": write("Ana Souza", ANA)}
    for name, script in WAITING:
        write(name, script)
    return shown

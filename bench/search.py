"""`python -m bench.search` (`make bench-search`): search p50/p95 on 100,000 messages in
10,000 conversations, on SQLite (a temporary file) and on PostgreSQL (a database of its
own, `devtone_bench_search`, created and dropped here; never the tests' database).

A benchmark, not a test: it seeds with bulk inserts (100,000 posts through the domain
would take the whole run) and measures `domain.search.search`, the function GET
/api/search calls, so the figures are the database's and devtone's, without HTTP.

    python -m bench.search                       # both engines
    python -m bench.search --engines sqlite --rounds 10
    DEVTONE_BENCH_PG_ADMIN_URL=postgresql://postgres@127.0.0.1:5432/postgres python -m bench.search
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, make_url, text

from devtone import create_app
from devtone.connections import database_url
from devtone.domain import search
from devtone.domain.models import Conversation, ConversationLabel, Label, Message
from devtone.extensions import db

CONVERSATIONS = 10_000
MESSAGES_EACH = 10
BENCH_DATABASE = "devtone_bench_search"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# A support desk's words, Portuguese and English, common ones far more often (Zipf-like);
# each message has 1 to 4 of them among 4 to 16 words of a long tail (see _seed).
WORDS = (
    "olá bom dia obrigado pedido entrega prazo atraso boleto fatura pagamento cartão "
    "reembolso cancelamento troca produto defeito garantia endereço frete rastreamento "
    "nota fiscal cobrança duplicada senha acesso conta cadastro aplicativo erro site "
    "hello thanks order delivery late refund invoice payment card password account "
    "login error shipping tracking address cancel exchange warranty broken charged twice"
).split()
NAMES = "Ana Bruno Carla Diego Elisa Fábio Gabriela Hugo Isabela João Larissa Marcos".split()
SURNAMES = "Silva Souza Oliveira Santos Lima Pereira Costa Almeida Ferreira Prado".split()
LABELS = ("VIP", "Reembolso", "Bug", "Financeiro", "Urgente")

#: (what it exercises, parameters): rare and common words, several words, a prefix, a
#: visitor's name and e-mail, and filters.
QUERIES = (
    ("rare word", {"q": "garantia"}),
    ("rare word", {"q": "warranty"}),
    ("common word", {"q": "pedido"}),
    ("common word", {"q": "order"}),
    ("two words", {"q": "boleto duplicada"}),
    ("two words", {"q": "refund late"}),
    ("prefix", {"q": "rastre"}),
    ("prefix", {"q": "canc"}),
    ("name", {"q": "{name}"}),
    ("e-mail", {"q": "{email}"}),
    ("word + label", {"q": "fatura", "label": "VIP"}),
    ("word + status", {"q": "senha", "status": "closed"}),
    ("word + dates", {"q": "entrega", "since": "2026-03-01", "until": "2026-03-05"}),
    ("page 5", {"q": "pagamento", "page": 5}),
    ("no word, label", {"label": "Urgente"}),
)


def main() -> None:
    """Seed each engine, time every query `rounds` times, print and save the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("bench/results/search.json"))
    parser.add_argument("--keep", action="store_true", help="leave the PostgreSQL database")
    options = parser.parse_args()
    figures = {"machine": _machine(), "started": datetime.now(UTC).isoformat(), "engines": {}}
    for engine in options.engines.split(","):
        if engine.strip() == "sqlite":
            figures["engines"][engine] = _on_sqlite(options.rounds)
        else:
            figures["engines"][engine] = _on_postgresql(options.rounds, options.keep)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written: {options.out}")


def _on_sqlite(rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        return _measure("sqlite", f"sqlite:///{Path(folder) / 'bench.sqlite3'}", rounds)


def _on_postgresql(rounds: int, keep: bool = False) -> dict:
    admin_url = database_url(os.environ.get("DEVTONE_BENCH_PG_ADMIN_URL", PG_ADMIN_URL))
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
    try:
        url = make_url(admin_url).set(database=BENCH_DATABASE)
        return _measure("postgresql", url.render_as_string(hide_password=False), rounds)
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        admin.dispose()


def _measure(engine: str, url: str, rounds: int) -> dict:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        _seed()
        seeded = time.perf_counter() - started
        print(f"{engine}: seeded {CONVERSATIONS * MESSAGES_EACH} messages in {seeded:.1f} s")
        # A visitor of the seeded data, by name and by address.
        visitor = db.session.get(Conversation, CONVERSATIONS // 2)
        fill = {"{name}": visitor.visitor_name, "{email}": visitor.visitor_email}
        queries = [
            (kind, {k: fill.get(v, v) if isinstance(v, str) else v for k, v in query.items()})
            for kind, query in QUERIES
        ]
        db.session.close()
        for _, query in queries:  # warm the caches and the statements
            search.search(**query)
        timings: dict[str, list[float]] = {}
        for _ in range(rounds):
            for kind, query in queries:
                began = time.perf_counter()
                found = search.search(**query)
                timings.setdefault(kind, []).append((time.perf_counter() - began) * 1000)
                assert found["results"] or kind == "page 5", (kind, query)
        db.engine.dispose()
    every = sorted(ms for values in timings.values() for ms in values)
    result = {
        "seed_seconds": round(seeded, 1),
        "p50_ms": round(_percentile(every, 50), 2),
        "p95_ms": round(_percentile(every, 95), 2),
        "by_query": {
            kind: {
                "p50_ms": round(_percentile(sorted(v), 50), 2),
                "p95_ms": round(_percentile(sorted(v), 95), 2),
            }
            for kind, v in timings.items()
        },
    }
    print(f"{engine}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms")
    for kind, figures in result["by_query"].items():
        print(f"  {kind:<16} p50 {figures['p50_ms']:>8} ms   p95 {figures['p95_ms']:>8} ms")
    return result


def _seed() -> None:
    """10,000 conversations of 10 messages each over March 2026, a tenth of them labelled."""
    rng = random.Random(19)
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    # The long tail of a desk's words (products, places, names): 3,000 made-up ones.
    syllables = "ba be bi bo bu ca ce ci co cu da de di do du la le li lo lu ma me mi mo mu".split()
    tail = sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(4000)})
    tail_weights = [1 / (rank + 1) for rank in range(len(tail))]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    session = db.session
    session.execute(
        insert(Label),
        [
            {"name": name, "name_key": name.casefold(), "colour": "teal", "created_at": start}
            for name in LABELS
        ],
    )
    conversations, messages, labelled = [], [], []
    for number in range(1, CONVERSATIONS + 1):
        name = f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}"
        email = f"{name.split()[0].lower()}.{name.split()[1].lower()}{number % 100}@example.com"
        began = start + timedelta(minutes=number * 4)
        label = LABELS[(number // 10) % len(LABELS)] if number % 10 == 0 else None
        conversations.append(
            {"id": number, "status": rng.choice(("waiting", "active", "closed")),
             "visitor_name": name, "visitor_email": email, "visitor_token_hash": "-",
             "last_seq": MESSAGES_EACH, "version": MESSAGES_EACH + 1,
             "last_text_seq": MESSAGES_EACH, "created_at": began,
             "updated_at": began + timedelta(minutes=MESSAGES_EACH),
             "labels": json.dumps([label] if label else [])}
        )  # fmt: skip
        if label:
            labelled.append({"conversation_id": number, "label_id": LABELS.index(label) + 1})
        for seq in range(1, MESSAGES_EACH + 1):
            words = rng.choices(WORDS, weights, k=rng.randint(1, 4))
            words += rng.choices(tail, tail_weights, k=rng.randint(4, 16))
            rng.shuffle(words)
            messages.append(
                {"conversation_id": number, "seq": seq, "kind": "text",
                 "sender": "visitor" if seq % 2 else "agent", "author_name": name,
                 "body": " ".join(words).capitalize() + ".",
                 "created_at": began + timedelta(minutes=seq)}
            )  # fmt: skip
    session.execute(insert(Conversation), conversations)
    session.execute(insert(ConversationLabel), labelled)
    for at in range(0, len(messages), 10_000):
        session.execute(insert(Message), messages[at : at + 10_000])
    session.commit()
    if session.connection().dialect.name == "postgresql":
        session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        session.execute(text("ANALYZE"))
        session.commit()
    session.close()


def _percentile(ordered: list[float], percent: float) -> float:
    if not ordered:
        return 0.0
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(percent) - 1]


def _machine() -> dict:
    return {
        "python": platform.python_version(),
        "system": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


if __name__ == "__main__":
    main()

"""Where a message's CPU goes, by bucket, from the raw stacks of `python -m bench profile`.

    python tools/profile_buckets.py bench/results/profile-pairs-….txt 2639

The second argument is the run's CPU per message (or per delivery) in µs, as the profile
printed it. Each sampled stack counts once, in the first bucket one of its frames matches
(the statement, middleware or write it was inside), so the rows add up to the whole. This
is how docs/performance-profile-2026-12.md's tables were made.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

# Run as a script from anywhere: the repository (for `bench`) goes on the path first.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.profile import parse_collapsed

#: (bucket, a fragment of a frame's `function (file)`), first match wins: the most
#: specific first (a statement before the domain call around it).
RULES: tuple[tuple[str, str], ...] = (
    ("SQL: UPDATE conversations … RETURNING", "_take_seq (devtone/domain/log_writer.py)"),
    ("SQL: INSERT entry", "_insert (devtone/domain/log_writer.py)"),
    ("SQL: COMMIT (ORM session)", "scoped_session.commit"),
    ("SQL: the session's close after a write", "scoped_session.close"),
    # Since the log's writes run on a Core connection of their own (log_writer.transaction).
    ("SQL: COMMIT (Core connection)", "Connection.commit"),
    ("SQL: the write's connection: checkout, close", "transaction (devtone/domain/log_writer.py)"),
    ("SQL: long-poll authorized_head", "authorized_head"),
    ("SQL: messages_after (catch-up, long-poll reads)", "messages_after"),
    ("SQL: head watcher tick", "HeadWatcher.tick"),
    ("publish (announce → fan-out)", "publish (devtone/domain/announce.py)"),
    ("post: shaping the answer (written_json)", "written_json"),
    ("post: the rest of the domain call", "post_message (devtone/domain/conversations.py)"),
    ("middleware: Flask-Limiter before_request", "Limiter._check_request_limit"),
    ("middleware: Flask-Limiter after_request", "Limiter.__inject_headers"),
    ("per-sender counter (limits.count_message)", "count_message"),
    ("JSON in (get_json)", "Request.get_json"),
    ("JSON out (make_response)", "Flask.make_response"),
    ("middleware: session open", "open_session"),
    ("middleware: session save", "save_session"),
    ("middleware: Flask-Login remember cookie", "_update_remember_cookie"),
    ("middleware: security headers", "add_security_headers"),
    ("middleware: Flask-Compress", "Compress.after_request"),
    ("middleware: i18n", "devtone/web/i18n.py"),
    ("long-poll: connection log", "devtone/feeds/connection_log.py"),
    ("long-poll: wait bookkeeping", "_wait (devtone/feeds/conversation.py)"),
    ("view: caller and arguments", "devtone/web/request.py"),
    ("Flask: ensure_sync per hook", "Flask.ensure_sync"),
    ("Flask: request context, routing, teardown", "flask/ctx.py"),
    ("Flask: request context, routing, teardown", "Flask.request_context"),
    ("Flask: the rest around the view", "flask/app.py"),
    ("SSE: the streams' generators", "stream (devtone/feeds/loop.py)"),
    ("gunicorn: send an answer's head", "Response.send_headers"),
    ("gunicorn: send a body or an SSE frame", "Response._emit_body"),
    ("gunicorn: parse a request", "Parser.__next__"),
    ("gunicorn: the rest per request", "gunicorn/"),
    ("broker (other)", "devtone/realtime/broker.py"),
    ("limits: memory storage's expiry thread", "limits/storage/memory.py"),
)


def buckets(raw: str) -> tuple[Counter[str], int]:
    """Samples per bucket, and the total."""
    counts: Counter[str] = Counter()
    total = 0
    for frames, count in parse_collapsed(raw.splitlines()):
        total += count
        names = [frame.short for frame in frames]
        for bucket, fragment in RULES:
            if any(fragment in name for name in names):
                counts[bucket] += count
                break
        else:
            counts["gevent hub, switches, the rest"] += count
    return counts, total


def main(path: str, per_unit_us: float) -> None:
    """Print one Markdown row per bucket: share and µs per unit."""
    counts, total = buckets(Path(path).read_text())
    for bucket, count in counts.most_common():
        share = count / total
        print(f"| {bucket} | {100 * share:.1f} % | {share * per_unit_us:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))

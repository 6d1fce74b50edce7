"""The doctor's rules: small pure functions over what was seen, each giving one finding.

Everything the doctor calls late, cut or skewed is decided here, for the command line and
the admin's page alike (the browser only measures).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from devtone.doctor import fixes
from devtone.doctor.fixes import Fix
from devtone.doctor.observations import Observations
from devtone.errors import N_

#: devtone sends the stream's headers and hello at once: later than this, something held
#: them (a loaded server on the far side of the world still answers within a second).
LATE_MS = 2000
#: Clocks further apart than this make "2 minutes ago" and the monitor's figures lie.
SKEW_MS = 2000
#: The browser opens at most this many HTTP/1.1 connections to one origin.
HTTP1_CONNECTIONS = 6

PASS, FAIL, INFO, SKIPPED = "pass", "fail", "info", "skipped"

#: devtone's own refusal of a probe (DEVTONE_DOCTOR_RATE_LIMIT): nothing to judge, and no
#: proxy to blame.
TOO_MANY = 429
RATE_LIMITED = N_("Not judged: devtone refused it, too many doctor runs from this address. "
                  "Try again in a minute.")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's verdict: what it saw (an English template and its values) and, when
    it did not pass, what to change."""

    check: str
    status: str
    title: str
    saw: str
    params: Mapping[str, Any] = field(default_factory=dict)
    fixes: tuple[Fix, ...] = ()

    def render(
        self, translate: Callable[[str], str], number: Callable[[float], str]
    ) -> dict[str, Any]:
        """The finding as JSON in one language: `translate` a template, write a `number`."""
        values = {k: number(v) if isinstance(v, float) else v for k, v in self.params.items()}
        return {
            "check": self.check,
            "status": self.status,
            "title": translate(self.title),
            "saw": translate(self.saw).format(**values),
            "fixes": [fix.render(translate, values) for fix in self.fixes],
        }


def judge(seen: Observations) -> list[Finding]:
    """Every check's finding, in the order a reader fixes them."""
    return [check(seen) for check in CHECKS]


def passed(findings: list[Finding]) -> bool:
    """True when nothing failed and nothing was left unjudged (information passes)."""
    return all(finding.status in (PASS, INFO) for finding in findings)


def _seconds(ms: float | None) -> float:
    return round((ms or 0) / 1000, 1)


def _opened(seen: Observations) -> bool:
    stream = seen.stream
    return stream.status == 200 and (stream.content_type or "").startswith("text/event-stream")


def stream_opens(seen: Observations) -> Finding:
    """The test stream answers 200 with text/event-stream."""
    title = N_("The stream opens")
    stream = seen.stream
    if _opened(seen):
        return Finding("stream_opens", PASS, title, N_("It answered 200 text/event-stream."))
    if stream.status == TOO_MANY:
        return _skipped("stream_opens", title, RATE_LIMITED)
    if stream.status is None:
        saw = N_("No answer came: {error}.")
        params = {"error": stream.error or "—"}
    else:
        saw = N_("It answered {status} with {content_type} instead of 200 text/event-stream.")
        params = {"status": stream.status, "content_type": stream.content_type or "—"}
    return Finding("stream_opens", FAIL, title, saw, params, fixes.ROUTE_API)


def stream_buffered(seen: Observations) -> Finding:
    """The headers and `hello` arrive at once: nothing on the way holds them."""
    title = N_("Events arrive at once (no buffering)")
    stream = seen.stream
    if not _opened(seen):
        return _skipped("stream_buffered", title)
    if stream.hello_ms is None:
        saw = N_("The headers came after {headers} s; hello never came before the stream ended.")
        params = {"headers": _seconds(stream.headers_ms)}
        return Finding("stream_buffered", FAIL, title, saw, params, fixes.UNBUFFER)
    params = {"headers": _seconds(stream.headers_ms), "hello": _seconds(stream.hello_ms)}
    if max(stream.headers_ms or 0, stream.hello_ms) > LATE_MS:
        saw = N_(
            "The headers came after {headers} s and hello after {hello} s; devtone sends "
            "both at once, so something on the way held them back."
        )
        return Finding("stream_buffered", FAIL, title, saw, params, fixes.UNBUFFER)
    if stream.ping_ms is not None and stream.ping_ms - stream.hello_ms < seen.heartbeat_ms / 2:
        # Sent a heartbeat apart, received together: held until the stream ended. This
        # catches a buffer even when the heartbeat is shorter than LATE_MS.
        saw = N_(
            "hello and the ping sent {heartbeat} s after it came together, after {hello} s: "
            "something on the way held them back."
        )
        params["heartbeat"] = _seconds(seen.heartbeat_ms)
        return Finding("stream_buffered", FAIL, title, saw, params, fixes.UNBUFFER)
    return Finding(
        "stream_buffered", PASS, title, N_("The hello event came after {hello} s."), params
    )


def stream_compressed(seen: Observations) -> Finding:
    """No Content-Encoding on text/event-stream: a compressor holds events back."""
    title = N_("The stream is not compressed")
    if not _opened(seen):
        return _skipped("stream_compressed", title)
    encoding = (seen.stream.content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return Finding("stream_compressed", PASS, title, N_("No Content-Encoding."))
    saw = N_("The stream came with Content-Encoding: {encoding}.")
    return Finding("stream_compressed", FAIL, title, saw, {"encoding": encoding}, fixes.UNCOMPRESS)


def idle_stream_cut(seen: Observations) -> Finding:
    """An idle stream lives past one heartbeat: the proxy's read timeout is longer."""
    title = N_("An idle stream lives past a heartbeat")
    stream = seen.stream
    if not _opened(seen) or stream.hello_ms is None:
        return _skipped("idle_stream_cut", title, N_("Not judged: hello never came."))
    params = {"heartbeat": _seconds(seen.heartbeat_ms), "ended": _seconds(stream.ended_ms)}
    if stream.ping_ms is not None:
        saw = N_("The ping {heartbeat} s after hello came through.")
        return Finding("idle_stream_cut", PASS, title, saw, params)
    if stream.ended_ms is None:
        saw = N_("No ping came, though the server sends one every {heartbeat} s.")
    else:
        saw = N_(
            "The stream was cut after {ended} s, before the ping the server sends "
            "every {heartbeat} s."
        )
    return Finding("idle_stream_cut", FAIL, title, saw, params, fixes.READ_TIMEOUT)


def long_poll_cut(seen: Observations) -> Finding:
    """A long-poll request lives through its whole wait (only devtone answers 200 here)."""
    title = N_("Long-poll lives through its wait")
    wait = seen.wait
    params = {"asked": float(wait.asked_s), "after": _seconds(wait.answered_ms)}
    if wait.status == 200:
        saw = N_("A request asked to wait {asked} s was answered after {after} s.")
        return Finding("long_poll_cut", PASS, title, saw, params)
    if wait.status == TOO_MANY:
        return _skipped("long_poll_cut", title, RATE_LIMITED)
    if wait.status is None:
        saw = N_("A request asked to wait {asked} s broke after {after} s: {error}.")
        params["error"] = wait.error or "—"
    else:
        saw = N_("A request asked to wait {asked} s was answered {status} after {after} s.")
        params["status"] = wait.status
    return Finding("long_poll_cut", FAIL, title, saw, params, fixes.READ_TIMEOUT)


def clock_skew(seen: Observations) -> Finding:
    """The server's clock and the client's agree within SKEW_MS."""
    title = N_("The clocks agree")
    clock = seen.clock
    if clock is None:
        return _skipped("clock_skew", title, N_("Not judged: the server's time was not read."))
    # The server read its clock somewhere between sending and receiving: take the middle.
    here = (clock.sent_ms + clock.received_ms) / 2
    skew = clock.server_time.timestamp() * 1000 - here
    params = {"seconds": _seconds(abs(skew))}
    if abs(skew) <= SKEW_MS:
        saw = N_("The server's clock and this one differ by {seconds} s.")
        return Finding("clock_skew", PASS, title, saw, params)
    if skew > 0:
        saw = N_("The server's clock is {seconds} s ahead of this one.")
    else:
        saw = N_("The server's clock is {seconds} s behind this one.")
    return Finding("clock_skew", FAIL, title, saw, params, fixes.CLOCK)


def http_version(seen: Observations) -> Finding:
    """HTTP/2 and later share one connection; HTTP/1.1 allows six per origin, which is
    information, not a failure: devtone's tabs share one stream per browser."""
    title = N_("HTTP version")
    version = seen.http_version
    if version in ("HTTP/2", "HTTP/3"):
        saw = N_("{version}: streams share one connection, with no limit of six per origin.")
        return Finding("http_version", PASS, title, saw, {"version": version})
    saw = N_(
        "{version}: a browser opens at most {connections} connections to this address. "
        "devtone keeps one stream per browser however many tabs are open, so this is "
        "enough; HTTP/2 lifts the limit for everything else on the site."
    )
    params = {"version": version or "HTTP/1.1", "connections": HTTP1_CONNECTIONS}
    return Finding("http_version", INFO, title, saw, params, fixes.HTTP2)


def _skipped(check: str, title: str, saw: str = "") -> Finding:
    return Finding(check, SKIPPED, title, saw or N_("Not judged: the stream did not open."))


CHECKS: tuple[Callable[[Observations], Finding], ...] = (
    stream_opens,
    stream_buffered,
    stream_compressed,
    idle_stream_cut,
    long_poll_cut,
    clock_skew,
    http_version,
)

"""Request heads: no request carries more than 64 KiB of request line and headers, however
they are shaped, under gunicorn (gunicorn.conf.py) and the embedded server (server.py);
a client gets a few seconds to send its head; and a flood of oversized heads neither
stalls nor kills a gunicorn worker."""

from __future__ import annotations

import selectors
import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from devtone.config import REQUEST_HEAD_SECONDS
from tests.conftest import ON_SQLITE
from tests.servers import EmbeddedServer

pytestmark = [
    pytest.mark.live,
    # Heads never reach the database: one store is enough.
    ON_SQLITE,
]

#: What no request may carry, however its head is shaped.
HEAD_BOUND = 64 * 1024


def request_head(target: str = "/healthz", fields: list[str] | tuple[str, ...] = ()) -> bytes:
    """A GET whose head is the request line, Host, Connection and `fields`."""
    lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *fields]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def padded(count: int, line_size: int) -> list[str]:
    """`count` header lines of exactly `line_size` bytes each, their CRLF included."""
    return [f"X-Pad-{n:04}: ".ljust(line_size - 2, "p") for n in range(count)]


def long_target(line_size: int) -> str:
    """A /healthz URL that makes the request line exactly `line_size` bytes (CRLF aside)."""
    return "/healthz?".ljust(line_size - len("GET  HTTP/1.1"), "q")


# Each over 64 KiB. The last two fit gunicorn's default limits (a line of 4 KiB, 100
# fields of 8 KiB: ~800 KiB in all), so only a bound on the whole head refuses them.
OVERSIZED = {
    "one huge header": request_head(fields=[f"Cookie: {'c' * 70_000}"]),
    "many small headers": request_head(fields=padded(1_000, 72)),
    "a huge request line": request_head(target="/healthz?" + "q" * 70_000),
    "many headers of 2 KiB": request_head(fields=padded(40, 2_000)),
    "a few headers of 8 KiB": request_head(fields=padded(9, 8_000)),
    "a hundred headers of 8 KiB": request_head(fields=padded(97, 8_000)),
}


def exchange(url: str, data: bytes, seconds: float = 15) -> tuple[bytes, bool]:
    """Send `data` while reading the answer, as a client does; stop sending once the server
    answers or hangs up. Returns (what it answered, whether all of `data` went out)."""
    host, port = url.removeprefix("http://").split(":")
    answer = bytearray()
    sent = 0
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.setblocking(False)
        deadline = time.monotonic() + seconds
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
            while time.monotonic() < deadline:
                for _, events in selector.select(timeout=0.5):
                    try:
                        if events & selectors.EVENT_READ:
                            chunk = sock.recv(65536)
                            if not chunk:
                                return bytes(answer), sent == len(data)
                            answer.extend(chunk)
                        if events & selectors.EVENT_WRITE and sent < len(data) and not answer:
                            sent += sock.send(data[sent : sent + 65536])
                        if sent == len(data) or answer:
                            selector.modify(sock, selectors.EVENT_READ)
                    except (ConnectionResetError, BrokenPipeError):
                        return bytes(answer), sent == len(data)
    raise AssertionError(f"no end to the exchange in {seconds} s; answered {bytes(answer)[:80]!r}")


def status_of(answer: bytes) -> int | None:
    """The status code of an HTTP answer, or None when there is none."""
    parts = answer.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and answer.startswith(b"HTTP/1.") else None


@pytest.fixture(params=["gunicorn", "embedded"])
def server(request, live_server, tmp_path: Path):
    """devtone under gunicorn (gunicorn.conf.py), or the embedded server of `make run`."""
    if request.param == "gunicorn":
        return live_server()
    embedded = EmbeddedServer(tmp_path / "embedded")
    request.addfinalizer(embedded.stop)
    return embedded.start()


@pytest.mark.parametrize("data", OVERSIZED.values(), ids=OVERSIZED.keys())
def test_a_head_over_64_kib_is_refused_whatever_its_shape(server, data):
    assert len(data) > HEAD_BOUND
    answer, _ = exchange(server.url, data)
    # Refused before the application: 431 (headers), 414 (request line) or 400. A server
    # that stops reading may reset the connection before the client reads the refusal;
    # what matters is that nothing was served.
    assert status_of(answer) in (400, 414, 431) or answer == b"", answer[:200]
    # The server is fine, and still answers an honest request.
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200


# Every limit at its edge: a request line of 2 KiB, 30 fields (Host and Connection among
# them) of 2 KiB, CRLF included.
LARGEST_ALLOWED = request_head(target=long_target(2_048), fields=padded(28, 2_048))


def test_the_largest_head_the_limits_allow_is_served_and_under_64_kib(server):
    assert len(LARGEST_ALLOWED) <= HEAD_BOUND
    answer, sent = exchange(server.url, LARGEST_ALLOWED)
    assert sent and status_of(answer) == 200, answer[:200]


@pytest.mark.parametrize(
    ("shape", "data"),
    [
        ("a request line of 2 KiB and one byte", request_head(target=long_target(2_049))),
        ("31 fields", request_head(fields=padded(29, 40))),
        ("a field of 2 KiB and one byte", request_head(fields=padded(1, 2_049))),
    ],
)
def test_one_byte_or_one_field_past_a_limit_is_refused(server, shape, data):
    # Small enough to be read whole: the refusal always arrives.
    answer, sent = exchange(server.url, data)
    assert sent and status_of(answer) in (400, 414, 431), (shape, answer[:200])


def test_a_client_that_never_finishes_its_head_is_let_go(server):
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        sock.settimeout(0.5)
        # A byte every half second of a header line that never ends: the head stays small
        # and always arriving. The server gives a head 5 s; a minute must not be needed.
        for _ in range(120):
            try:
                sock.sendall(b"y")
                if sock.recv(4096) == b"":
                    return  # the server hung up, as it should
            except TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return
    raise AssertionError("the server held a head that never ended for a minute")


def test_the_heads_clock_stops_before_the_application_runs(server):
    # A stream lives for hours: the seconds its head had must not end it.
    started = requests.post(f"{server.url}/api/conversations", json={"name": "Ada"}, timeout=10)
    conversation, token = started.json()["conversation"], started.json()["token"]
    url = f"{server.url}/api/conversations/{conversation['id']}"
    with requests.get(
        f"{url}/events", params={"token": token}, stream=True, timeout=(5, 30)
    ) as stream:
        lines = stream.iter_lines()
        assert next(line for line in lines if line.startswith(b"event:")) == b"event: hello"
        time.sleep(REQUEST_HEAD_SECONDS + 1)
        posted = requests.post(
            f"{url}/messages",
            json={"body": "still there?", "client_id": "c-1"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert posted.status_code == 201
        assert any(b"still there?" in line for line in lines)


# -- a flood against one gunicorn worker ---------------------------------------------------

#: Connections in the flood, each sending up to ~790 KiB of headers (what gunicorn's
#: defaults accepted); bounded in time by FLOOD_SECONDS.
FLOOD_CONNECTIONS = 300
FLOOD_HEAD = request_head(fields=padded(97, 8_000))
FLOOD_SECONDS = 60


def rss_kib(pid: int) -> int:
    """A process's resident memory, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def flood(url: str, count: int, data: bytes, deadline: float) -> tuple[int, int]:
    """Open `count` connections at once, each sending `data` as fast as the server reads
    it, until the server answers or hangs up. Returns (how many the server ended, how
    many of those it served)."""
    host, port = url.removeprefix("http://").split(":")
    selector = selectors.DefaultSelector()
    for _ in range(count):
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.setblocking(False)
        # Per connection: bytes sent, and the start of the server's answer.
        selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, [0, b""])
    ended = served = 0
    try:
        while selector.get_map() and time.monotonic() < deadline:
            for key, events in selector.select(timeout=1):
                sock, state = key.fileobj, key.data
                try:
                    if events & selectors.EVENT_READ:
                        chunk = sock.recv(65536)
                        if not chunk:
                            raise ConnectionResetError  # the server hung up
                        state[1] = (state[1] + chunk)[:16]
                        selector.modify(sock, selectors.EVENT_READ, state)  # it answered
                    elif state[0] < len(data):
                        state[0] += sock.send(data[state[0] : state[0] + 65536])
                        if state[0] == len(data):
                            selector.modify(sock, selectors.EVENT_READ, state)
                except (ConnectionResetError, BrokenPipeError):
                    selector.unregister(sock)
                    sock.close()
                    ended += 1
                    served += status_of(state[1]) == 200
    finally:
        for key in list(selector.get_map().values()):
            key.fileobj.close()
        selector.close()
    return ended, served


def test_a_flood_of_oversized_heads_neither_stalls_nor_kills_the_worker(live_server):
    server = live_server()
    (worker,) = server.workers()
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    before = rss_kib(worker)
    peak = [before]
    honest: list[tuple[int, float]] = []
    done = threading.Event()

    def watch_memory():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(worker))
            time.sleep(0.05)

    def ask_honestly():
        # A customer's request while the flood runs, again and again.
        while not done.is_set():
            started = time.monotonic()
            try:
                status = requests.get(f"{server.url}/healthz", timeout=30).status_code
            except requests.RequestException:
                status = None
            honest.append((status, time.monotonic() - started))
            time.sleep(0.1)

    threads = [threading.Thread(target=watch_memory), threading.Thread(target=ask_honestly)]
    for thread in threads:
        thread.start()
    try:
        ended, served = flood(
            server.url, FLOOD_CONNECTIONS, FLOOD_HEAD, time.monotonic() + FLOOD_SECONDS
        )
    finally:
        done.set()
        for thread in threads:
            thread.join()
    after = rss_kib(worker)
    slowest = max(seconds for _, seconds in honest)
    print(
        f"\nflood: {FLOOD_CONNECTIONS} connections x {len(FLOOD_HEAD)} bytes of head;"
        f" {ended} ended by the server, {served} served; worker RSS {before} KiB before,"
        f" peak {peak[0]} KiB, {after} KiB after; {len(honest)} honest requests,"
        f" slowest {slowest:.3f} s"
    )
    # Every oversized head was refused, none held: the server hung up on each.
    assert (ended, served) == (FLOOD_CONNECTIONS, 0)
    # The honest requests were all answered, by the same worker, which never grew by
    # more than a few times the heads the flood could make it hold (64 KiB each).
    assert honest and all(status == 200 for status, _ in honest)
    assert server.workers() == [worker]
    assert peak[0] - before < FLOOD_CONNECTIONS * 4 * HEAD_BOUND // 1024

"""The load client's HTTP/1.1 and SSE parsing, fed byte by byte as a socket might."""

import pytest

from bench.wire import ChunkedDecoder, ProtocolError, SseParser, parse_head, request_bytes


def chunked(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def test_chunked_body_survives_any_split():
    wire = chunked(b"id: 1\nevent: message\ndata: {}\n\n", b"x" * 300)
    for size in (1, 2, 3, 7, 64, len(wire)):
        decoder = ChunkedDecoder()
        out = b"".join(decoder.feed(wire[i : i + size]) for i in range(0, len(wire), size))
        assert out == b"id: 1\nevent: message\ndata: {}\n\n" + b"x" * 300
        assert decoder.done


def test_chunk_extensions_are_ignored_and_garbage_is_refused():
    assert ChunkedDecoder().feed(b"5;name=value\r\nhello\r\n") == b"hello"
    with pytest.raises(ProtocolError):
        ChunkedDecoder().feed(b"zz\r\nhello\r\n")
    with pytest.raises(ProtocolError):
        ChunkedDecoder().feed(b"5\r\nhelloXX")


def test_sse_events_split_anywhere_come_out_whole():
    stream = (
        b'retry: 3000\nevent: hello\ndata: {"cursor": 0}\n\n'
        b'id: 1\nevent: message\ndata: {"seq":1}\n\n'
        b": a comment\n\n"
        b"event: ping\ndata: {}\n\n"
        b"id: 2\nevent: message\ndata: line one\ndata: line two\n\n"
    )
    for size in (1, 5, 13, len(stream)):
        parser = SseParser()
        events = []
        for i in range(0, len(stream), size):
            events.extend(parser.feed(stream[i : i + size]))
        assert [(e.type, e.id) for e in events] == [
            ("hello", None),
            ("message", "1"),
            ("ping", "1"),  # the last event id carries over, as in a browser
            ("message", "2"),
        ]
        assert events[3].data == b"line one\nline two"


def test_sse_crlf_and_cr_line_ends_and_default_event_type():
    parser = SseParser()
    events = parser.feed(b"id:7\r\ndata:x\r\n\r")
    events += parser.feed(b"\ndata: y\r\rdata:z\n\n")
    assert [(e.type, e.id, e.data) for e in events] == [
        ("message", "7", b"x"),
        ("message", "7", b"y"),
        ("message", "7", b"z"),
    ]


def test_response_head_and_request_bytes():
    head = parse_head(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked"
    )
    assert head.status == 200
    assert head.chunked
    assert head.keep_alive
    assert head.content_length is None
    with pytest.raises(ProtocolError):
        parse_head(b"SSH-2.0-OpenSSH")
    assert request_bytes("POST", "/p", "127.0.0.1:1", {"X-A": "b"}, b"{}") == (
        b"POST /p HTTP/1.1\r\nHost: 127.0.0.1:1\r\nX-A: b\r\nContent-Length: 2\r\n\r\n{}"
    )

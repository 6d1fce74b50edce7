"""The SSE wire format, as a table of frames (the cases other encoders get wrong)."""

import pytest

from devtone.realtime.sse import encode


@pytest.mark.parametrize(
    ("kwargs", "frame"),
    [
        ({"data": "foo"}, "data: foo\n\n"),
        ({"data": ""}, "data: \n\n"),
        ({"data": "a\nb"}, "data: a\ndata: b\n\n"),
        ({"data": "a\r\nb\rc"}, "data: a\ndata: b\ndata: c\n\n"),
        ({"data": "ends with break\n"}, "data: ends with break\ndata: \n\n"),
        (
            {"id": 0, "event": "message", "data": "x"},
            "id: 0\nevent: message\ndata: x\n\n",
        ),
        ({"id": 42, "data": {"seq": 42}}, 'id: 42\ndata: {"seq":42}\n\n'),
        (
            {"data": {"body": "héllo 👋 שלום\u200b"}},
            'data: {"body":"héllo 👋 שלום\u200b"}\n\n',
        ),
        ({"data": {"body": "two\nlines"}}, 'data: {"body":"two\\nlines"}\n\n'),
        (
            {"retry": 3000, "event": "hello", "data": {}},
            "retry: 3000\nevent: hello\ndata: {}\n\n",
        ),
        ({"retry": 0, "data": "x"}, "retry: 0\ndata: x\n\n"),
        (
            {"event": "ping", "data": {"time": "t"}},
            'event: ping\ndata: {"time":"t"}\n\n',
        ),
    ],
)
def test_encode_writes_the_frame(kwargs, frame):
    assert encode(**kwargs) == frame


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"id": "1\n2", "data": "x"},
        {"id": "a\0b", "data": "x"},
        {"event": "two\nlines", "data": "x"},
        {"event": "", "data": "x"},
        {"retry": -1, "data": "x"},
    ],
)
def test_encode_refuses_a_frame_the_browser_would_misread(kwargs):
    with pytest.raises(ValueError):
        encode(**kwargs)

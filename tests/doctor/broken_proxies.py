"""nginx configurations that break live chat, as the doctor's tests put them in front of a
live server (keyword arguments of `Nginx.configure`), and the timings that make a run take
seconds."""

#: A heartbeat and a long-poll wait a test can sit through, both above the doctor's 2 s
#: "late" and above SHORT_READ_TIMEOUT's.
TIMINGS = {"DEVTONE_SSE_HEARTBEAT": "3", "DEVTONE_LONGPOLL_WAIT": "3"}

#: A bare location for the API, on nginx's defaults: proxy_buffering on (devtone's
#: `X-Accel-Buffering: no` ignored) and HTTP/1.0 to the upstream. Together they hold the
#: whole stream, headers included, until it ends (nginx 1.22 over HTTP/1.1, or with the
#: header honoured, passes each event on as it comes).
BUFFERING = {
    "api_location": """location /api/ {
        proxy_pass http://devtone;
        proxy_buffering on;
        proxy_ignore_headers X-Accel-Buffering;
    }"""
}
#: Compression for text/event-stream (devtone's X-Accel-Buffering honoured): events
#: flow, gzipped, one flush each.
COMPRESSING = {"page_directives": "gzip on; gzip_types text/event-stream; gzip_min_length 0;"}
#: A read timeout below the heartbeat and the long-poll wait.
SHORT_READ_TIMEOUT = {"page_directives": "proxy_read_timeout 1s;"}

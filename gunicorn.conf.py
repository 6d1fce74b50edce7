"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

gevent workers, so each open stream is a greenlet, not a thread. Every setting can be
overridden on the command line or with GUNICORN_CMD_ARGS, as usual with gunicorn.
"""

import multiprocessing
import os
import signal

# Prometheus multiprocess mode (devtone/metrics.py): with PROMETHEUS_MULTIPROC_DIR set in
# the environment gunicorn starts from, every worker writes its metrics to files there and
# GET /metrics adds them up. Made first: importing devtone (just below, and the logger
# class) opens its metrics' files in that directory before any hook runs.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# (Not `import config`: gunicorn would read that name as its own `config` setting.)
from devtone.config import (  # after the directory its metrics write to
    REQUEST_FIELD_SIZE_LIMIT,
    REQUEST_FIELDS_LIMIT,
    REQUEST_HEAD_SECONDS,
    REQUEST_LINE_LIMIT,
)

bind = os.environ.get("DEVTONE_BIND", "127.0.0.1:8000")
worker_class = "gevent"
# Streams spend their lives waiting, not computing: one worker per core is enough.
workers = int(os.environ.get("DEVTONE_WORKERS", multiprocessing.cpu_count()))
# Open streams per worker (each is one connection). Raise the file-descriptor limit
# (ulimit -n) above workers x worker_connections.
worker_connections = int(os.environ.get("DEVTONE_WORKER_CONNECTIONS", "10000"))
# With gevent workers `timeout` is the worker's heartbeat to the arbiter, not a limit on a
# request: hour-long streams are fine as long as the worker's loop stays responsive.
timeout = 30
# On SIGTERM devtone ends its streams at once (see post_worker_init), so this only bounds
# ordinary requests still in flight.
graceful_timeout = 15
# With gevent workers this is also how long a client has to send a request's whole head,
# the first request's included: one trickling its headers cannot hold a connection longer.
keepalive = REQUEST_HEAD_SECONDS
# Request heads: at most 63,554 bytes (under 64 KiB) however they are shaped; the limits,
# and why, are in devtone/config.py, and the embedded server keeps the same. gunicorn's
# defaults let one request carry ~800 KiB of headers (100 fields of 8 KiB): 1,000 such
# connections stalled a worker for seconds and grew it past 800 MB until it was killed.
limit_request_line = REQUEST_LINE_LIMIT
limit_request_fields = REQUEST_FIELDS_LIMIT
limit_request_field_size = REQUEST_FIELD_SIZE_LIMIT
# gunicorn 27's control socket defaults to one path per user, which a second devtone on
# the same host (or the test suite's servers) would take over; enable it with a path of
# its own (--control-socket PATH) if you use gunicornc.
control_socket_disable = True
# Access logs are off unless DEVTONE_ACCESS_LOG names a file ("-" is stdout). Stream and
# long-poll URLs carry visitor tokens (?token=), so every access line, however enabled
# (--access-logfile too), goes through devtone's logger, which redacts them.
accesslog = os.environ.get("DEVTONE_ACCESS_LOG") or None
logger_class = "devtone.access_log.RedactingLogger"


def post_worker_init(worker) -> None:  # noqa: ANN001 - gunicorn's Worker
    """Freeze the start-up heap for the collector; start the visitors' mail sender, the
    webhook sender and the retention rule; end streams at once on SIGTERM."""
    import gc

    # The benchmark's profile showed full collections stopping the worker for 100+ ms
    # with 1,000 open streams, mostly re-scanning what was built at start-up (Flask,
    # SQLAlchemy, every module). Frozen, those objects are never scanned again.
    gc.collect()
    gc.freeze()

    # Every worker runs the visitors' mail sender; the one holding its lease (elected
    # through the database) sends, the others stand by (devtone/mail_out.py).
    from devtone import mail, mail_out, webhooks_out

    # Only devtone's app has a sender: not a worker whose app failed to load (it serves an
    # error page), nor another app run with this file (the benchmark's Flask-SSE).
    is_devtone = mail.EXTENSION_KEY in getattr(worker.wsgi, "extensions", {})
    sender = mail_out.start(worker.wsgi) if is_devtone else None
    # Webhooks likewise (idle while no endpoint is enabled).
    webhooks = webhooks_out.start(worker.wsgi) if is_devtone else None
    # The retention rule likewise (DEVTONE_RETENTION_DAYS): one run a day, by whichever
    # worker takes its lease (devtone/retention.py).
    from devtone import retention

    keeper = retention.start(worker.wsgi) if is_devtone else None

    exit_handler = worker.handle_exit

    def handle_exit(signum, frame) -> None:  # noqa: ANN001
        exit_handler(signum, frame)
        import gevent

        if sender is not None:
            gevent.spawn(sender.stop)  # gives its lease up after its current turn
        if webhooks is not None:
            gevent.spawn(webhooks.stop)
        if keeper is not None:
            gevent.spawn(keeper.stop)

        from devtone.feeds import end_streams

        # Out of the signal handler: ending streams takes locks and wakes greenlets.
        gevent.spawn(end_streams, worker.wsgi)

    signal.signal(signal.SIGTERM, handle_exit)


def on_starting(server) -> None:  # noqa: ANN001 - gunicorn's Arbiter
    """Start the metrics from zero: a previous run's files would count again."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        import glob

        for path in glob.glob(os.path.join(directory, "*.db")):
            os.remove(path)


def child_exit(server, worker) -> None:  # noqa: ANN001 - gunicorn's Arbiter and Worker
    """A worker is gone: its open-stream gauges must stop counting (livesum)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def when_ready(server) -> None:  # noqa: ANN001 - gunicorn's Arbiter
    """Freeze the master's heap once it is up (devtone.config's imports, which never change
    again): Python's final collection at exit re-scanned it, a second of every stop."""
    import gc

    gc.freeze()

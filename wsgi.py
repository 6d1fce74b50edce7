"""The WSGI entry point: `gunicorn -k gevent wsgi:app`, or `python wsgi.py` (make run)."""

from gevent import monkey

monkey.patch_all()

# psycogreen's wait callback, with a limit on each wait for a hung server.
from devtone.database import install_cooperative_waits  # noqa: E402 - must follow patch_all

install_cooperative_waits()

from devtone import create_app  # noqa: E402

app = create_app()

if __name__ == "__main__":
    from devtone.server import serve

    serve(app)

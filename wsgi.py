"""The WSGI entry point: `gunicorn -k gevent wsgi:app`, or `python wsgi.py` (make run)."""

from gevent import monkey

monkey.patch_all()

from psycogreen.gevent import patch_psycopg  # noqa: E402 - must follow patch_all

patch_psycopg()

from devtone import create_app  # noqa: E402

app = create_app()

if __name__ == "__main__":
    from devtone.server import serve

    serve(app)

"""gunicorn's configuration from the settings: `gunicorn -c python:dashboard.gunicorn_conf
dashboard.app:server` binds CAREKPI_BIND with CAREKPI_WORKERS workers of CAREKPI_THREADS threads."""

import gunicorn.http.wsgi

from carekpi.logs import setup_logging
from carekpi.settings import Settings

gunicorn.http.wsgi.SERVER = "carekpi"  # no server banner naming gunicorn and its version

_settings = Settings()  # refuses to start without a secret key when auth is on
bind = _settings.bind
workers = _settings.workers
threads = _settings.threads
worker_class = "gthread"
timeout = 120  # a cold national page may take a while; gunicorn's 30 s would kill it
graceful_timeout = 30
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'


def post_fork(_server, _worker) -> None:
    """Each worker logs JSON lines (off a terminal) like the ETL."""
    setup_logging()

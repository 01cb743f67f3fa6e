"""``porta serve``: the production server (gunicorn), optionally with a Celery worker beside it.

SIGTERM and SIGINT both stop gracefully: no new connections, in-flight requests finish (up to
120 s), then exit 0.
"""

import signal
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

DEV_BANNER = "YOU ARE RUNNING PORTA IN DEV MODE. SECURITY IS DISABLED. DON'T DO THIS IN PRODUCTION!"


class _GracefulArbiter(Arbiter):
    """gunicorn treats SIGINT as a quick shutdown; Porta drains on it exactly like SIGTERM."""

    def handle_int(self):
        self.handle_term()


class _PortaServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from porta.wsgi import application

        return application

    def run(self):
        _GracefulArbiter(self).run()


class Command(BaseCommand):
    help = "Run Porta's HTTP server (gunicorn)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=settings.PORTA_BIND)
        parser.add_argument("--workers", type=int, default=settings.PORTA_WORKERS)
        parser.add_argument("--threads", type=int, default=settings.PORTA_THREADS)
        parser.add_argument("--dev", action="store_true", help="Development mode: debug, reload, one worker")
        parser.add_argument(
            "--with-worker", action="store_true", help="Also run a Celery worker (with the beat scheduler)"
        )

    def handle(self, *args, bind, workers, threads, dev, with_worker, **options):
        if dev:
            self.stderr.write(self.style.WARNING(DEV_BANNER))
        worker = None
        if with_worker and settings.REDIS_URL:
            # A single-instance set-up has no separate beat process: the worker embeds the
            # scheduler (key rotation, session purge, API-key usage flush).
            schedule = str(settings.DATA_DIR / "celerybeat-schedule")
            command = [sys.executable, "-m", "celery", "-A", "porta", "worker", "--loglevel", "INFO"]
            command += ["--beat", "--schedule", schedule]
            worker = subprocess.Popen(command)
        elif with_worker:
            self.stderr.write("No REDIS_URL: Celery tasks run eagerly in the server, no worker needed.")
        options = {
            "bind": bind,
            "workers": 1 if dev else workers,
            "threads": threads,
            "graceful_timeout": 120,
            "timeout": 120,
            "accesslog": "-" if dev else None,
            "reload": dev,
            "worker_class": "gthread" if threads > 1 else "sync",
        }
        try:
            _PortaServer({k: v for k, v in options.items() if v is not None}).run()
        finally:
            if worker is not None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=130)

"""``porta serve``: the production server (gunicorn), optionally with a Celery worker beside it.

SIGTERM: ``/health/ready`` answers 503 at once, everything else is served normally for
``PORTA_SHUTDOWN_GRACE`` seconds, then no new connection is accepted, every connection already
accepted is answered and in-flight requests finish (up to 120 s), and the process exits 0.
SIGINT does the same without the grace period. ``--with-worker`` restarts a Celery worker that
dies, and exits 1 when it dies more than ``PORTA_WORKER_MAX_RESTARTS`` times in 10 minutes.
How and why: ``porta/server.py``.
"""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from gunicorn.app.base import BaseApplication

from porta.server import PortaArbiter

DEV_BANNER = "YOU ARE RUNNING PORTA IN DEV MODE. SECURITY IS DISABLED. DON'T DO THIS IN PRODUCTION!"

# A request may take this long (a large batch of password hashes); a stop waits as long for it.
REQUEST_TIMEOUT = 120


def _number(given: str | None, option: str, default: float, *, kind: type, minimum: float, unit: str):
    """The command-line option if given, else the setting (its variable is checked in core/config.py)."""
    if given is None:
        return default
    name, raw = option, given
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not value >= minimum:  # NaN too
        raise CommandError(f"{name} must be {unit} ≥ {minimum:g}, not {raw!r}")
    return value


class _PortaServer(BaseApplication):
    def __init__(self, options: dict, **arbiter_options):
        self.options = options
        self.arbiter_options = arbiter_options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from porta.wsgi import application

        return application

    def run(self):
        PortaArbiter(self, **self.arbiter_options).run()


class Command(BaseCommand):
    help = "Run Porta's HTTP server (gunicorn)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=settings.PORTA_BIND)
        parser.add_argument("--workers", help="worker processes (PORTA_WORKERS, 2)")
        parser.add_argument("--threads", help="threads per worker (PORTA_THREADS, 1)")
        parser.add_argument(
            "--shutdown-grace",
            help="seconds to serve on after SIGTERM, with /health/ready at 503 (PORTA_SHUTDOWN_GRACE, 10)",
        )
        parser.add_argument("--dev", action="store_true", help="Development mode: debug, reload, one worker")
        parser.add_argument(
            "--with-worker", action="store_true", help="Also run a Celery worker (with the beat scheduler)"
        )

    def handle(self, *args, bind, workers, threads, shutdown_grace, dev, with_worker, **options):
        whole, seconds = (
            {"kind": int, "unit": "a whole number"},
            {"kind": float, "unit": "a number of seconds"},
        )
        workers = _number(workers, "--workers", settings.PORTA_WORKERS, minimum=1, **whole)
        threads = _number(threads, "--threads", settings.PORTA_THREADS, minimum=1, **whole)
        grace = _number(
            shutdown_grace, "--shutdown-grace", settings.PORTA_SHUTDOWN_GRACE, minimum=0, **seconds
        )
        max_restarts = settings.PORTA_WORKER_MAX_RESTARTS
        if dev:
            self.stderr.write(self.style.WARNING(DEV_BANNER))
        celery_command = None
        if with_worker and settings.REDIS_URL:
            # A single-instance set-up has no separate beat process: the worker embeds the
            # scheduler (key rotation, session purge, API-key usage flush).
            # The schedule lives in the data directory, which a production set-up may not have yet;
            # without it the embedded beat dies at start while the worker runs on.
            settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
            schedule = str(settings.DATA_DIR / "celerybeat-schedule")
            celery_command = [sys.executable, "-m", "celery", "-A", "porta", "worker", "--loglevel", "INFO"]
            celery_command += ["--beat", "--schedule", schedule]
        elif with_worker:
            self.stderr.write("No REDIS_URL: Celery tasks run eagerly in the server, no worker needed.")
        options = {
            "bind": bind,
            "workers": 1 if dev else workers,
            "threads": threads,
            "graceful_timeout": REQUEST_TIMEOUT,
            "timeout": REQUEST_TIMEOUT,
            "accesslog": "-" if dev else None,
            "reload": dev,
            "worker_class": (
                "porta.server.DrainingThreadWorker" if threads > 1 else "porta.server.DrainingSyncWorker"
            ),
            # gunicorn's control socket is one path per user ($HOME/.gunicorn/gunicorn.ctl) that two
            # servers on a host would share, and its shutdown command bypasses the grace period.
            "control_socket_disable": True,
        }
        _PortaServer(
            {k: v for k, v in options.items() if v is not None},
            grace=grace,
            celery_command=celery_command,
            max_worker_restarts=max_restarts,
        ).run()

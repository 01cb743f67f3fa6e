"""The Celery app. Without REDIS_URL tasks run eagerly in-process (embedded default)."""

import os

from celery import Celery

from porta.core.config import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "porta.settings")

app = Celery("porta")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_configure.connect
def _settings_or_exit(sender, **kwargs) -> None:
    """``celery -A porta worker`` with a bad variable: the same one line as every other entry point."""
    load_settings_or_exit()

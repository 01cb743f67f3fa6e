from django.apps import AppConfig


class PortaConfig(AppConfig):
    name = "porta"
    verbose_name = "Porta"

    def ready(self) -> None:
        from django.core.signals import request_started

        from authn import schema  # noqa: F401 - registers the bearer scheme's schema extension
        from porta import invalidation
        from porta.api import database

        invalidation.connect()
        request_started.connect(database.drop_dead_connections, dispatch_uid="porta-drop-dead-connections")

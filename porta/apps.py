from django.apps import AppConfig


class PortaConfig(AppConfig):
    name = "porta"
    verbose_name = "Porta"

    def ready(self) -> None:
        from django.core.signals import request_started

        from porta import invalidation
        from porta.api import (
            database,
            spectacular_ext,  # noqa: F401 - registers the schema extension
        )

        invalidation.connect()
        request_started.connect(database.drop_dead_connections, dispatch_uid="porta-drop-dead-connections")

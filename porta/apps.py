from django.apps import AppConfig


class PortaConfig(AppConfig):
    name = "porta"
    verbose_name = "Porta"

    def ready(self) -> None:
        from django.core.signals import request_started

        from porta import database, invalidation
        from porta.api import spectacular_ext  # noqa: F401 - registers the schema extension

        invalidation.connect()
        request_started.connect(database.drop_dead_connections, dispatch_uid="porta-drop-dead-connections")

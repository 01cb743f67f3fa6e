from django.apps import AppConfig


class PortaConfig(AppConfig):
    name = "porta"
    verbose_name = "Porta"

    def ready(self) -> None:
        from porta import invalidation
        from porta.api import spectacular_ext  # noqa: F401 - registers the schema extension

        invalidation.connect()

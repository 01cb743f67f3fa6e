from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "Exports"

    def ready(self) -> None:
        from exports.jobs import KINDS, run_export
        from jobs import registry

        for kind, entity in KINDS.items():
            registry.register(kind, run_export, description=f"Export of {entity} to a CSV or JSON file")

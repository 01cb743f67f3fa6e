from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Manifest import"

    def ready(self) -> None:
        from imports import jobs as import_jobs
        from jobs import registry

        registry.register(import_jobs.KIND, import_jobs.import_run, description="Import a manifest")

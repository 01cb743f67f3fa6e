from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "bulk"
    verbose_name = "Bulk status changes"

    def ready(self) -> None:
        from bulk import jobs

        jobs.register()

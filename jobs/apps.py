from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from jobs.metrics import JobsByStatusCollector
        from porta.core.metrics import register_live

        register_live(JobsByStatusCollector())

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SystemConfigConfig(AppConfig):
    name = "systemconfig"
    verbose_name = "System config"

    def ready(self) -> None:
        from porta.core import liveconfig
        from systemconfig import selectors, services

        liveconfig.install(selectors.overrides)
        # One row per key after every migrate (and after a test database flush), as Django does
        # for content types: the API and the Django admin list every key, set or not.
        post_migrate.connect(services.config_ensure_rows, sender=self, dispatch_uid="systemconfig-rows")

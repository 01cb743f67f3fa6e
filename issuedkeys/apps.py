from django.apps import AppConfig


class IssuedKeysConfig(AppConfig):
    name = "issuedkeys"
    verbose_name = "Issued API keys"

    def ready(self) -> None:
        from issuedkeys.selectors import issued_api_key_count_of
        from organizations import extensions

        extensions.cascade_counters["issuedApiKeys"] = issued_api_key_count_of

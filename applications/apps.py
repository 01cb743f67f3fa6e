from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "applications"

    def ready(self) -> None:
        from applications.api.claim_serializers import user_claim_values_export
        from applications.selectors.clients import client_count_of
        from organizations import extensions

        extensions.cascade_counters["clients"] = client_count_of
        extensions.user_export_sections["claimValues"] = user_claim_values_export

from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "oidc"

    def ready(self) -> None:
        from oidc.api.serializers import user_sessions_export
        from organizations import extensions

        extensions.user_export_sections["sessions"] = user_sessions_export

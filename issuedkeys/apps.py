from django.apps import AppConfig


class IssuedKeysConfig(AppConfig):
    name = "issuedkeys"
    verbose_name = "Issued API keys"

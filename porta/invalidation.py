"""Connects the cache-invalidation receivers of porta.core.invalidation to the models whose writes
invalidate: the wiring is the one place that knows every app's models."""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save

from porta.core.invalidation import COUNTED_MODELS, principals_changed, rows_changed_signal


def connect() -> None:
    from django.apps import apps

    from organizations.models import Organization, User
    from rbac.models import Permission, Role, RolePermission, UserRole

    for label in COUNTED_MODELS:
        model = apps.get_model(label)
        post_save.connect(rows_changed_signal, sender=model, dispatch_uid=f"rows-save-{label}")
        post_delete.connect(rows_changed_signal, sender=model, dispatch_uid=f"rows-del-{label}")

    for model in (Organization, User, Role, Permission, RolePermission, UserRole):
        post_save.connect(principals_changed, sender=model, dispatch_uid=f"principals-save-{model.__name__}")
        post_delete.connect(principals_changed, sender=model, dispatch_uid=f"principals-del-{model.__name__}")
    m2m_changed.connect(principals_changed, sender=Role.permissions.through, dispatch_uid="principals-m2m")
    # An organization delete removes its issued keys by cascade: one bump for all of them.
    post_delete.connect(_issued_keys_removed, sender=Organization, dispatch_uid="issued-keys-org-del")


def _issued_keys_removed(**_kwargs) -> None:
    from issuedkeys.verification import keys_changed

    keys_changed()

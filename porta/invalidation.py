"""Which writes invalidate cached admin principals, in one place.

Any saved or deleted user, organization, role, permission or assignment bumps the PRINCIPALS
stamp, at once and again on commit: at once so this request's own transaction sees it, on
commit so no other process can re-cache the old state between the bump and the commit. Bulk
writes that bypass model signals (QuerySet.update, bulk_create) must call ``principals_changed``.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from porta import versions


def principals_changed(**_: object) -> None:
    versions.bump(versions.PRINCIPALS)
    transaction.on_commit(lambda: versions.bump(versions.PRINCIPALS))


def connect() -> None:
    from organizations.models import Organization, User
    from rbac.models import Permission, Role, RolePermission, UserRole

    for model in (Organization, User, Role, Permission, RolePermission, UserRole):
        post_save.connect(principals_changed, sender=model, dispatch_uid=f"principals-save-{model.__name__}")
        post_delete.connect(principals_changed, sender=model, dispatch_uid=f"principals-del-{model.__name__}")
    m2m_changed.connect(principals_changed, sender=Role.permissions.through, dispatch_uid="principals-m2m")

"""The rows of each export before tenancy and filters: the owning apps' own selectors."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

from applications.selectors.clients import clients
from audit.selectors import audit_entries
from organizations.selectors import organizations
from organizations.user_selectors import users
from rbac.models import Role


def roles() -> QuerySet[Role]:
    return Role.objects.all()


ROWS: dict[str, Callable[[], QuerySet]] = {
    "users": users,
    "organizations": organizations,
    "clients": clients,
    "roles": roles,
    "audit": audit_entries,
}

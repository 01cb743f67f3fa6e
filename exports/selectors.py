"""The rows of each export before tenancy and filters: the owning apps' own selectors."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from django.db.models import QuerySet

from applications.selectors.clients import clients
from audit.selectors import audit_entries
from exports.columns import ExportSpec
from exports.filtersets import FILTERSETS
from organizations.selectors import organizations
from organizations.user_selectors import users
from porta.api.pagination import ordering_from_request
from porta.core.errors import ValidationFailed
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


def narrowed(spec: ExportSpec, rows: QuerySet, query: Mapping[str, str]) -> QuerySet:
    """``rows`` filtered by the list's filters in ``query`` and in its order (``sort``, ``order``;
    the id breaks ties); a bad value is a 400 naming it, as on the list."""
    ordering = ordering_from_request(
        query, sort_fields=spec.sort_fields, default_sort=spec.default_sort, default_order=spec.default_order
    )
    filterset = FILTERSETS[spec.entity](query, queryset=rows)
    if not filterset.is_valid():
        errors = {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
        raise ValidationFailed("Invalid filter: " + ", ".join(sorted(errors)), details=errors)
    return filterset.qs.order_by(*ordering.order_by())


def rows_within(spec: ExportSpec, organization_id: uuid.UUID | None) -> QuerySet:
    """The entity's rows inside one organization (None: every row), for exports run as jobs."""
    rows = ROWS[spec.entity]()
    if organization_id is None:
        return rows
    if spec.organization_field is None:
        return rows.none()  # fail closed: global rows belong to no organization
    return rows.filter(**{spec.organization_field: organization_id})

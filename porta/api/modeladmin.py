"""Django admin building blocks every app's admin uses: a read-only admin, actions offered only to
operators holding the API's permission for them (asked through ``User.has_perm``, which rbac's
authentication backend answers), and actions that run a service on each selected row as the API
would (one transaction each, audited as the operator)."""

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages

from porta.core.context import Actor
from porta.core.errors import ApiError


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Browse and search only. Rows change through the API's services (rules, audit), not here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def admin_actor(request) -> Actor:
    """The operator signed in to the Django admin, as the audit trail names them."""
    return Actor(type="user", id=request.user.id, label=request.user.email)


def apply_to_each(
    modeladmin: admin.ModelAdmin,
    request,
    queryset: Iterable[Any],
    change: Callable[[Actor, Any], object],
    *,
    name: Callable[[Any], str],
    done: str,
) -> None:
    """Run a service ``change(actor, row)`` on every selected row, each in its own transaction
    (as the API would); a refusal is reported against the row's ``name`` and the rest go on.
    ``done`` is the summary, formatted with the count of rows changed."""
    actor = admin_actor(request)
    changed = 0
    for row in queryset:
        try:
            change(actor, row)
            changed += 1
        except ApiError as exc:
            modeladmin.message_user(request, f"{name(row)}: {exc.message}", messages.WARNING)
    modeladmin.message_user(request, done.format(changed))


def holds_admin_permission(request, permission: str) -> bool:
    """Whether the operator signed in to the Django admin holds ``permission``
    (``admin:user:suspend``), resolved from the database as for an API request."""
    return request.user.has_perm(permission)


class ApiPermissionActions:
    """ModelAdmin mixin: an action carrying ``api_permission`` (the ``admin:<resource>:<action>``
    the API requires for the same operation) is offered, and accepted when posted, only to
    operators holding that permission. One rule for the API and the Django admin."""

    def get_actions(self, request):
        return {
            name: entry
            for name, entry in super().get_actions(request).items()
            if (permission := getattr(entry[0], "api_permission", None)) is None
            or holds_admin_permission(request, permission)
        }

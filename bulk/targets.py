"""What bulk status changes act on: for each kind of row, its transition table (the one the
single-item action uses), the single-item service, its guard and how its audit entries read.

Bulk adds no rules of its own: every name it accepts is a row of the table, or an alias of the
upstream bulk API that picks the row of the table the item's status allows (``activate`` a user
is ``reactivate`` from inactive and ``unsuspend`` from suspended).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import django_filters
from django.db.models import Model

from audit.transitions import StateMachine
from organizations import services as organization_services
from organizations import user_services
from organizations.filtersets import OrganizationFilterSet
from organizations.models import Organization, User
from organizations.user_filtersets import UserFilterSet
from porta.core.context import Actor
from porta.core.errors import InvalidTransition


@dataclass(frozen=True, slots=True)
class BulkTarget:
    #: The path segment and job-kind part: ``organizations``, ``users``.
    name: str
    model: type[Model]
    machine: StateMachine
    not_found: str
    #: The single-item service: ``apply(actor=, row=, action=, reason=)`` (its own transaction).
    apply: Callable[..., Model]
    #: The metadata the single-item service writes on its audit entry, for ``(action, reason)``.
    audit_metadata: Callable[[str, str | None], dict[str, Any] | None]
    #: The filters of the resource's list endpoint: the job form's ``filter`` takes the same keys.
    filterset_class: type[django_filters.FilterSet]
    #: Path from a row to its organization's id.
    organization_field: str
    #: The actions the single-item guard protects, the ids it protects (one query), and its refusal.
    protected_actions: frozenset[str]
    protected_ids: Callable[[], frozenset]
    protected_refusal: Callable[[str], str]
    #: Upstream bulk names that stand for several rows of the table.
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Actions that need a reason (400 for the whole request, as for one item).
    reason_required: frozenset[str] = frozenset()

    @property
    def actions(self) -> list[str]:
        return [*self.machine.table, *self.aliases]

    def candidates(self, action: str) -> tuple[str, ...]:
        return self.aliases.get(action, (action,))

    def table_action(self, action: str, state: str) -> str:
        """The row of the table ``action`` means for an item in ``state``. When none allows it,
        a single candidate is still returned (the engine refuses it with its own message); an
        alias is refused here, under the name the caller used."""
        candidates = self.candidates(action)
        for candidate in candidates:
            if state in self.machine.table[candidate].source:
                return candidate
        if len(candidates) == 1:
            return candidates[0]
        raise InvalidTransition(self.refusal(action, state))

    def refusal(self, action: str, state: str) -> str:
        return self.machine.refusal.format(action=action, noun=self.machine.noun, state=state)

    def guard_refusal(self, action: str) -> str | None:
        """The guard's refusal when ``action`` is one it protects (then ``protected_ids`` apply)."""
        return self.protected_refusal(action) if action in self.protected_actions else None


def _transition_organization(*, actor: Actor, row: Organization, action: str, reason: str | None):
    return organization_services.organization_transition(
        actor=actor, organization=row, action=action, reason=reason
    )


def _transition_user(*, actor: Actor, row: User, action: str, reason: str | None):
    return user_services.user_transition(actor=actor, user=row, action=action, reason=reason)


def _super_admin_organization_ids() -> frozenset:
    return frozenset(Organization.objects.filter(is_super_admin=True).values_list("pk", flat=True))


ORGANIZATIONS = BulkTarget(
    name="organizations",
    model=Organization,
    machine=organization_services.ORGANIZATION_STATUS,
    not_found="Organization not found",
    apply=_transition_organization,
    audit_metadata=organization_services.organization_transition_metadata,
    filterset_class=OrganizationFilterSet,
    organization_field="id",
    protected_actions=organization_services.PROTECTED_ACTIONS,
    protected_ids=_super_admin_organization_ids,
    protected_refusal=organization_services.protected_refusal,
)

USERS = BulkTarget(
    name="users",
    model=User,
    machine=user_services.USER_STATUS,
    not_found="User not found",
    apply=_transition_user,
    audit_metadata=user_services.user_transition_metadata,
    filterset_class=UserFilterSet,
    organization_field="organization_id",
    protected_actions=user_services.PROTECTED_ACTIONS,
    protected_ids=user_services.protected_user_ids,
    protected_refusal=user_services.protected_refusal,
    aliases={"activate": ("reactivate", "unsuspend")},
    reason_required=user_services.REASON_REQUIRED,
)

TARGETS = {target.name: target for target in (ORGANIZATIONS, USERS)}

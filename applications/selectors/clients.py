"""Reads of OIDC clients and their secrets."""

from __future__ import annotations

from django.db.models import QuerySet

from applications.models import ApplicationStatus, Client, ClientSecret, ClientStatus
from organizations.models import Organization, OrganizationStatus


def clients() -> QuerySet[Client]:
    """Clients with what their representation reads (organization, application) joined in."""
    return Client.objects.select_related("organization", "application")


def client_count_of(organization: Organization) -> int:
    """The organization's clients: what deleting it removes with it."""
    return Client.objects.filter(organization=organization).count()


def secrets_of(client: Client) -> QuerySet[ClientSecret]:
    return ClientSecret.objects.filter(client=client).order_by("created_at", "id")


def effective_login_methods(client: Client) -> list[str]:
    """The client's own login methods, or (when it inherits) its organization's defaults."""
    if client.login_methods is not None:
        return client.login_methods
    return client.organization.default_login_methods


def unusable_reason(client: Client) -> str | None:
    """Why the client cannot sign anyone in right now, or None. Computed, never stored: the
    client's own status is untouched when its organization or application changes."""
    if client.status != ClientStatus.ACTIVE:
        return f"Client is {client.status}"
    if client.organization.status != OrganizationStatus.ACTIVE:
        return f"Organization is {client.organization.status}"
    if client.application.status != ApplicationStatus.ACTIVE:
        return f"Application is {client.application.status}"
    return None

"""Rows the client tests need: applications and clients made through the real services."""

from __future__ import annotations

import itertools
from typing import Any

from applications.models import Application, Client
from applications.services import clients as client_services
from organizations.models import Organization
from porta.core.context import Actor
from tests.factories import OrganizationFactory

_counter = itertools.count(1)


def make_application(**fields: Any) -> Application:
    n = next(_counter)
    return Application.objects.create(**{"name": f"Client test app {n}", "slug": f"client-app-{n}", **fields})


def make_client(
    organization: Organization | None = None,
    application: Application | None = None,
    **fields: Any,
) -> tuple[Client, str | None]:
    """A client created by ``client_create`` (confidential web by default) and its first secret."""
    values = {
        "client_name": f"Client {next(_counter)}",
        "client_type": "confidential",
        "application_type": "web",
        "redirect_uris": ["https://app.example.com/callback"],
        **fields,
    }
    return client_services.client_create(
        actor=Actor.system("tests"),
        organization_id=(organization or OrganizationFactory()).id,
        application_id=(application or make_application()).id,
        **values,
    )

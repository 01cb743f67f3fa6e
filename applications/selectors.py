"""Reads of applications and their modules."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from applications.models import Application, Module


def applications() -> QuerySet[Application]:
    return Application.objects.all()


def modules_of(application_id: uuid.UUID | None) -> QuerySet[Module]:
    """The modules of one application; none when the id names nothing."""
    if application_id is None:
        return Module.objects.none()
    return Module.objects.filter(application_id=application_id)

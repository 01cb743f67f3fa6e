"""Reads of applications and their modules."""

from __future__ import annotations

from django.db.models import QuerySet

from applications.models import Application


def applications() -> QuerySet[Application]:
    return Application.objects.all()

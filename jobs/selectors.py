"""Reads of jobs."""

from __future__ import annotations

from django.db.models import QuerySet

from jobs.models import Job


def jobs() -> QuerySet[Job]:
    """Every job, without its checkpoint (``state`` can be large and is never shown)."""
    return Job.objects.defer("state")

"""Audit entries written directly (the services write real ones through ``audit.record``)."""

from __future__ import annotations

import factory

from audit.models import AuditEntry


class AuditEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEntry

    event_type = "user.updated"
    actor_type = "system"
    actor_label = "tests"
    target_type = "user"
    target_id = factory.Sequence(lambda n: f"target-{n}")

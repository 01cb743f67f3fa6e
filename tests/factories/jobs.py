"""Jobs as a worker leaves them (no task is queued for a factory's row)."""

from __future__ import annotations

import factory

from jobs.models import Job


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    kind = "testing.count"
    parameters = factory.LazyFunction(lambda: {"items": 3})
    actor_label = "factory"

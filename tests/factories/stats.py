"""The stats tallies (the triggers write them; a factory row is one count of nothing real)."""

from __future__ import annotations

import factory

from stats.models import ALL_ORGANIZATIONS, Metric, Tally, TallyDelta


class TallyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tally

    organization_id = ALL_ORGANIZATIONS
    metric = Metric.USERS
    label = factory.Sequence(lambda n: f"label-{n}")
    n = 0


class TallyDeltaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TallyDelta

    organization_id = ALL_ORGANIZATIONS
    metric = Metric.USERS
    label = "active"
    n = 0

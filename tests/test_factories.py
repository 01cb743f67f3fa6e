"""Every model of Porta's apps has a factory, and each factory saves a valid row."""

from __future__ import annotations

import pytest
from django.apps import apps

import tests.factories as factories

FACTORIES = [getattr(factories, name) for name in factories.__all__]
PORTA_APPS = {
    "organizations",
    "applications",
    "rbac",
    "keys",
    "apikeys",
    "oidc",
    "courier",
    "recovery",
    "audit",
    "jobs",
    "stats",
    "branding",
    "issuedkeys",
    "systemconfig",
}


def test_every_model_of_the_domain_apps_has_a_factory():
    models = {
        model
        for app in PORTA_APPS
        for model in apps.get_app_config(app).get_models()
        if not model._meta.auto_created
    }
    assert models == {factory._meta.model for factory in FACTORIES}


@pytest.mark.parametrize("factory", FACTORIES, ids=[f.__name__ for f in FACTORIES])
def test_each_factory_saves_a_valid_row(db, factory):
    row = factory()
    row.refresh_from_db()
    assert factory._meta.model.objects.filter(pk=row.pk).exists()

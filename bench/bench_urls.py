"""Porta's URLs plus ``/bench/bare/<uuid>``: the same organization row read by a plain Django view.

The bare view still passes through Porta's whole middleware stack but skips DRF, authentication,
permissions, the serializer and the ETag, so the gap between it and the real detail endpoint is
what the API layer costs on top of Django and one query.
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, JsonResponse
from django.urls import path

from organizations.models import Organization
from porta.urls import urlpatterns as porta_urlpatterns

FIELDS = (
    "id",
    "name",
    "slug",
    "status",
    "is_super_admin",
    "default_locale",
    "default_login_methods",
    "two_factor_policy",
    "branding_logo_url",
    "branding_favicon_url",
    "branding_primary_color",
    "branding_company_name",
    "branding_custom_css",
    "created_at",
    "updated_at",
)


def bare_organization(request: HttpRequest, pk: uuid.UUID) -> JsonResponse:
    row = Organization.objects.filter(pk=pk).values(*FIELDS).first()
    if row is None:
        return JsonResponse({"error": "Not Found"}, status=404)
    return JsonResponse(row)


urlpatterns = [path("bench/bare/<uuid:pk>", bare_organization), *porta_urlpatterns]

"""Test urlconf: Porta's routes plus two views under /api/admin/ that fail unexpectedly."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class BoomApiView(APIView):
    """A DRF view that fails with an error nobody anticipated."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise RuntimeError("secret internal detail from a DRF view")


def boom_plain_view(request: HttpRequest) -> HttpResponse:
    """A plain Django view that fails with an error nobody anticipated."""
    raise RuntimeError("secret internal detail from a Django view")


urlpatterns = [
    path("api/admin/boom-drf", BoomApiView.as_view()),
    path("api/admin/boom-plain", boom_plain_view),
    path("", include("porta.urls")),
]

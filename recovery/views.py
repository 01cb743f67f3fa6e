"""The public recovery page: ``/<orgSlug>/recovery/<token>`` (GET the form, POST the new password)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from organizations.login_services import LoginThrottled
from recovery import services
from recovery.models import RecoveryKind


def _unavailable(request, exc: services.RecoveryUnavailable):
    return render(request, "recovery/unavailable.html", {"message": exc.message}, status=exc.status)


@never_cache
@require_http_methods(["GET", "POST"])
def recovery_page(request, org_slug: str, token: str):
    try:
        row = services.recovery_lookup(token, org_slug)
    except services.RecoveryUnavailable as exc:
        return _unavailable(request, exc)
    context = {"needs_code": row.kind == RecoveryKind.CODE, "email": row.user.email, "errors": []}
    if request.method == "GET":
        return render(request, "recovery/form.html", context)
    password = request.POST.get("password", "")
    if password != request.POST.get("password_confirm", password):
        context["errors"] = ["The passwords do not match."]
        return render(request, "recovery/form.html", context, status=400)
    try:
        services.recovery_use(
            token=token, org_slug=org_slug, password=password, code=request.POST.get("code")
        )
    except services.RecoveryUnavailable as exc:
        return _unavailable(request, exc)
    except LoginThrottled as exc:
        context["errors"] = [exc.message]
        response = render(request, "recovery/form.html", context, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except services.WrongCode:
        context["errors"] = ["The recovery code is not correct."]
        return render(request, "recovery/form.html", context, status=400)
    except ValidationError as exc:
        context["errors"] = exc.messages
        return render(request, "recovery/form.html", context, status=400)
    return render(request, "recovery/done.html", {"email": row.user.email})

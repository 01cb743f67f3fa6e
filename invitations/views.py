"""The public invitation page: ``/<orgSlug>/auth/accept-invite/<token>`` (GET the form, POST to
accept), the link every invitation e-mail carries."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from invitations import services


def _unavailable(request, exc: services.InvitationUnavailable):
    return render(request, "invitation/unavailable.html", {"message": exc.message}, status=exc.status)


@never_cache
@require_http_methods(["GET", "POST"])
def accept_invitation_page(request, org_slug: str, token: str):
    try:
        invitation = services.invitation_lookup(token, org_slug)
    except services.InvitationUnavailable as exc:
        return _unavailable(request, exc)
    user = invitation.user
    context = {
        "organization_name": invitation.organization.name,
        "email": user.email,
        "needs_password": services.needs_password(user),
        "errors": [],
    }
    if request.method == "GET":
        return render(request, "invitation/form.html", context)
    password = request.POST.get("password", "")
    if password != request.POST.get("password_confirm", password):
        context["errors"] = ["The passwords do not match."]
        return render(request, "invitation/form.html", context, status=400)
    try:
        services.invitation_accept(token=token, org_slug=org_slug, password=password)
    except services.InvitationUnavailable as exc:
        return _unavailable(request, exc)
    except ValidationError as exc:
        context["errors"] = exc.messages
        return render(request, "invitation/form.html", context, status=400)
    return render(request, "invitation/done.html", context)

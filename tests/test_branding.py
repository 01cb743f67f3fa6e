"""Branding assets: /organizations/{orgId}/branding (list) and …/branding/{logo|favicon}
(GET bytes, PUT upload checked by its bytes, DELETE)."""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib

import pytest
from django.test import Client

from audit.models import AuditEntry
from branding.api.views import BrandingViewSet
from branding.models import BrandingAsset
from tests.conftest import ApiClient
from tests.factories import OrganizationFactory
from tests.permission_suite import Endpoint, PermissionSuite

ORGS = "/api/admin/organizations"


def png(width: int = 1, height: int = 1) -> bytes:
    """A real PNG image of ``width`` × ``height`` white pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32) + b"\xff\xd9"
ICO = b"\x00\x00\x01\x00\x01\x00\x10\x10" + bytes(40)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(24)
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b'<title>Acme</title><rect width="10" height="10" fill="#f00"/></svg>'
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def upload(api: ApiClient, org, asset_type: str, data: bytes, **fields):
    return api.put(f"{ORGS}/{org.id}/branding/{asset_type}", {"data": b64(data), **fields})


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme")


# -- upload and serve ------------------------------------------------------------------------------


def test_uploading_a_logo_creates_it(api, org):
    image = png()

    response = upload(api, org, "logo", image)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["assetType"] == "logo"
    assert body["contentType"] == "image/png"
    assert body["fileSize"] == len(image)
    assert body["sha256"] == hashlib.sha256(image).hexdigest()
    assert response["Location"] == f"{ORGS}/{org.id}/branding/logo"


def test_a_logo_is_served_with_its_bytes_type_and_cache_headers(api, org):
    image = png(2, 3)
    upload(api, org, "logo", image)

    response = api.get(f"{ORGS}/{org.id}/branding/logo")

    assert response.status_code == 200
    assert response.content == image
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, max-age=3600"
    assert response["ETag"] == f'"{hashlib.sha256(image).hexdigest()}"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_browser_asking_for_an_image_gets_the_bytes(api, org):
    upload(api, org, "favicon", ICO)

    response = api.get(f"{ORGS}/{org.id}/branding/favicon", headers={"Accept": "image/avif,image/*;q=0.8"})

    assert response.status_code == 200
    assert response.content == ICO
    assert response["Content-Type"] == "image/x-icon"


def test_a_matching_if_none_match_is_answered_304(api, org):
    upload(api, org, "logo", png())
    tag = api.get(f"{ORGS}/{org.id}/branding/logo")["ETag"]

    response = api.get(f"{ORGS}/{org.id}/branding/logo", headers={"If-None-Match": tag})

    assert response.status_code == 304
    assert response.content == b""


def test_uploading_again_replaces_the_asset(api, org):
    upload(api, org, "logo", png())

    response = upload(api, org, "logo", JPEG)

    assert response.status_code == 200
    assert BrandingAsset.objects.filter(organization=org).count() == 1
    assert api.get(f"{ORGS}/{org.id}/branding/logo").content == JPEG


def test_the_list_describes_each_asset_without_its_bytes(api, org):
    upload(api, org, "logo", png())
    upload(api, org, "favicon", ICO)

    response = api.get(f"{ORGS}/{org.id}/branding")

    assert response.status_code == 200
    data = response.json()["data"]
    assert [(a["assetType"], a["contentType"]) for a in data] == [
        ("favicon", "image/x-icon"),
        ("logo", "image/png"),
    ]
    assert all("data" not in a for a in data)


def test_the_organization_slug_names_it_too(api, org):
    upload(api, org, "logo", png())

    assert api.get(f"{ORGS}/acme/branding/logo").status_code == 200


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(JPEG, "image/jpeg"), (WEBP, "image/webp"), (ICO, "image/x-icon"), (SVG, "image/svg+xml")],
    ids=["jpeg", "webp", "ico", "svg"],
)
def test_each_allowed_type_is_recognised_by_its_bytes(api, org, data, content_type):
    response = upload(api, org, "favicon", data)

    assert response.status_code == 201, response.content
    assert response.json()["contentType"] == content_type


def test_an_alias_of_the_icon_type_is_accepted(api, org):
    response = upload(api, org, "favicon", ICO, contentType="image/vnd.microsoft.icon")

    assert response.status_code == 201
    assert response.json()["contentType"] == "image/x-icon"


def test_a_served_svg_cannot_run_as_a_document(api, org):
    upload(api, org, "logo", SVG)

    response = api.get(f"{ORGS}/{org.id}/branding/logo")

    assert response["Content-Type"] == "image/svg+xml"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "sandbox" in response["Content-Security-Policy"]


# -- delete ----------------------------------------------------------------------------------------


def test_deleting_an_asset_removes_it(api, org):
    upload(api, org, "logo", png())

    response = api.delete(f"{ORGS}/{org.id}/branding/logo")

    assert response.status_code == 204
    missing = api.get(f"{ORGS}/{org.id}/branding/logo")
    assert missing.status_code == 404
    assert missing.json()["message"] == "No logo asset found"


def test_deleting_a_missing_asset_is_404(api, org):
    assert api.delete(f"{ORGS}/{org.id}/branding/favicon").status_code == 404


def test_an_unknown_asset_type_is_404(api, org):
    response = upload(api, org, "banner", png())

    assert response.status_code == 404
    assert "logo or favicon" in response.json()["message"]


# -- refused uploads --------------------------------------------------------------------------------


def test_a_favicon_over_512_kib_is_413_and_nothing_is_stored(api, org):
    response = upload(api, org, "favicon", png() + bytes(512 * 1024))

    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"
    assert not BrandingAsset.objects.exists()


def test_a_logo_of_one_mib_is_accepted(api, org):
    image = png()

    response = upload(api, org, "logo", image + bytes(1024 * 1024 - len(image)))

    assert response.status_code == 201


def test_data_that_is_no_allowed_image_is_415(api, org):
    response = upload(api, org, "logo", b"GIF89a" + bytes(20))

    assert response.status_code == 415
    assert response.json()["error"] == "UnsupportedMediaType"
    assert not BrandingAsset.objects.exists()


def test_a_declared_type_that_is_not_allowed_is_415(api, org):
    assert upload(api, org, "logo", png(), contentType="image/gif").status_code == 415


def test_a_declared_type_the_bytes_contradict_is_400(api, org):
    response = upload(api, org, "logo", png(), contentType="image/jpeg")

    assert response.status_code == 400
    assert "image/png" in response.json()["message"]


def test_data_that_is_not_base64_is_400(api, org):
    response = api.put(f"{ORGS}/{org.id}/branding/logo", {"data": "not base64!"})

    assert response.status_code == 400
    assert "data" in response.json()["details"]


def test_an_unknown_body_field_is_400(api, org):
    response = upload(api, org, "logo", png(), url="https://example.com/logo.png")

    assert response.status_code == 400
    assert "url" in response.json()["details"]


@pytest.mark.parametrize(
    "svg",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
        b'<use x:href="https://evil.example/a.svg#x"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">'
        b"hi</div></foreignObject></svg>",
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">'
        b"<text>&a;</text></svg>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><style>rect{fill:url(https://evil.example/t)}</style></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><rect/></a></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="1"',
    ],
    ids=["script", "event-handler", "external-use", "foreign-object", "entity", "css-url", "link", "broken"],
)
def test_an_svg_with_active_or_external_content_is_refused(api, org, svg):
    response = upload(api, org, "logo", svg)

    assert response.status_code == 400, response.content
    assert response.json()["message"].startswith("SVG refused")
    assert not BrandingAsset.objects.exists()


# -- audit -----------------------------------------------------------------------------------------


def test_an_upload_is_audited_in_the_organizations_history_without_its_bytes(api, org):
    image = png()
    upload(api, org, "logo", image)

    entry = AuditEntry.objects.get(event_type="org.branding_asset.uploaded")

    assert entry.organization_id == org.id
    assert entry.target_type == "organization"
    assert entry.target_id == str(org.id)
    assert entry.metadata["assetType"] == "logo"
    assert entry.metadata["changes"]["sha256"]["after"] == hashlib.sha256(image).hexdigest()
    assert b64(image) not in str(entry.metadata)


def test_a_replacement_and_a_delete_are_audited(api, org):
    upload(api, org, "logo", png())
    upload(api, org, "logo", JPEG)
    api.delete(f"{ORGS}/{org.id}/branding/logo")

    events = list(
        AuditEntry.objects.filter(target_id=str(org.id), event_type__startswith="org.branding_asset")
        .order_by("created_at", "id")
        .values_list("event_type", flat=True)
    )

    assert events == [
        "org.branding_asset.uploaded",
        "org.branding_asset.uploaded",
        "org.branding_asset.deleted",
    ]


def test_a_refused_upload_writes_no_audit_entry(api, org):
    upload(api, org, "logo", b"plain text")

    assert not AuditEntry.objects.filter(event_type__startswith="org.branding_asset").exists()


# -- tenancy ---------------------------------------------------------------------------------------


@pytest.fixture
def scoped(api, org) -> ApiClient:
    minted = api.post(
        "/api/admin/api-keys", {"name": "Scoped", "organizationId": str(org.id), "roles": ["porta-org-admin"]}
    )
    assert minted.status_code == 201, minted.content
    return ApiClient(Client(), minted.json()["secret"])


def test_an_organization_scoped_key_brands_its_own_organization(scoped, org):
    assert upload(scoped, org, "logo", png()).status_code == 201
    assert scoped.get(f"{ORGS}/{org.id}/branding/logo").status_code == 200


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_an_organization_scoped_key_cannot_touch_another_organizations_asset(api, scoped, method):
    other = OrganizationFactory()
    upload(api, other, "logo", png())
    before = list(BrandingAsset.objects.values_list("sha256", "updated_at"))
    path = f"{ORGS}/{other.id}/branding/logo"

    response = scoped.put(path, {"data": b64(JPEG)}) if method == "put" else getattr(scoped, method)(path)

    assert response.status_code == 404
    assert response.json()["message"] == "Organization not found"
    assert list(BrandingAsset.objects.values_list("sha256", "updated_at")) == before


def test_an_organization_scoped_key_cannot_list_another_organizations_assets(api, scoped):
    other = OrganizationFactory()
    upload(api, other, "logo", png())

    assert scoped.get(f"{ORGS}/{other.id}/branding").status_code == 404


class TestBrandingPermissions(PermissionSuite):
    viewsets = (BrandingViewSet,)
    endpoints = (
        Endpoint("GET", f"{ORGS}/{{id}}/branding", "admin:org:read", expect=200),
        Endpoint(
            "PUT", f"{ORGS}/{{id}}/branding", "admin:org:update", body={"primaryColor": "#112233"}, expect=200
        ),
        Endpoint("GET", f"{ORGS}/{{id}}/branding/logo", "admin:org:read", expect=200),
        Endpoint(
            "PUT", f"{ORGS}/{{id}}/branding/favicon", "admin:org:update", body={"data": b64(ICO)}, expect=201
        ),
        Endpoint("DELETE", f"{ORGS}/{{id}}/branding/logo", "admin:org:update", expect=204),
    )

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        org = OrganizationFactory()
        BrandingAsset.objects.create(
            organization=org,
            asset_type="logo",
            content_type="image/png",
            data=png(),
            file_size=1,
            sha256="0" * 64,
        )
        return {"id": str(org.id)}


# -- organization delete and the Django admin --------------------------------------------------------


def test_deleting_an_organization_deletes_its_assets(api, org):
    upload(api, org, "logo", png())

    assert api.delete(f"{ORGS}/{org.id}").status_code == 200

    assert not BrandingAsset.objects.exists()


def test_an_auditor_browses_assets_in_the_django_admin_without_their_bytes(api, org, make_admin):
    image = png()
    upload(api, org, "logo", image)
    asset = BrandingAsset.objects.get()
    client = Client()
    client.force_login(make_admin("porta-auditor"))

    listing = client.get("/admin/branding/brandingasset/", {"q": "acme"})
    detail = client.get(f"/admin/branding/brandingasset/{asset.pk}/change/")

    assert listing.status_code == 200
    assert str(asset.pk) in listing.content.decode()
    assert detail.status_code == 200
    assert b64(image) not in detail.content.decode()

"""Contract §1 "Collections", "Cursor mode" and "Filters", proven on the organizations list."""

from __future__ import annotations

import base64
import datetime
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from organizations.models import Organization, OrganizationStatus
from porta.api.pagination import encode_cursor
from tests.factories import OrganizationFactory

ORGS = "/api/admin/organizations"


def ids(response) -> list[str]:
    return [row["id"] for row in response.json()["data"]]


def expected_ids(*order_by: str) -> list[str]:
    return [str(pk) for pk in Organization.objects.order_by(*order_by).values_list("pk", flat=True)]


def assert_bad_request(response, field: str | None = None) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] in {"BadRequest", "ValidationError"}
    assert body["statusCode"] == 400
    if field is not None:
        assert field in body["details"], body
    return body


@pytest.fixture
def orgs(initialized) -> list[Organization]:
    """24 organizations plus the super-admin one: 25 rows, with shared names and timestamps so
    the id tie-breaker matters."""
    rows = [OrganizationFactory(name=f"Org {i % 8:02d}", slug=f"org-{i:02d}") for i in range(24)]
    # Six rows share one creation time: keyset pagination must still visit each exactly once.
    moment = datetime.datetime(2024, 1, 15, 10, 30, tzinfo=datetime.UTC)
    Organization.objects.filter(pk__in=[row.pk for row in rows[:6]]).update(created_at=moment)
    return rows


def walk(api, params: dict[str, str]) -> tuple[list[str], list]:
    """Follow nextCursor from the first page to the last; returns the ids seen and every response."""
    seen: list[str] = []
    responses = []
    query = dict(params)
    while True:
        response = api.get(ORGS, query)
        assert response.status_code == 200, response.content
        responses.append(response)
        seen += ids(response)
        pagination = response.json()["pagination"]
        if not pagination["hasMore"]:
            assert pagination["nextCursor"] is None
            return seen, responses
        query = {**params, "cursor": pagination["nextCursor"]}
        assert len(responses) < 100, "cursor walk does not terminate"


# -- page mode -------------------------------------------------------------------------------------


def test_the_default_page_is_the_first_twenty_rows_with_totals(api, orgs):
    response = api.get(ORGS)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "pagination"}
    assert body["pagination"] == {"total": 25, "page": 1, "pageSize": 20, "totalPages": 2}
    assert ids(response) == expected_ids("-created_at", "-pk")[:20]


def test_the_last_page_holds_the_remaining_rows(api, orgs):
    response = api.get(ORGS, {"page": "3", "pageSize": "10"})
    assert response.status_code == 200
    assert response.json()["pagination"] == {"total": 25, "page": 3, "pageSize": 10, "totalPages": 3}
    assert ids(response) == expected_ids("-created_at", "-pk")[20:]


def test_pages_together_list_every_row_exactly_once(api, orgs):
    seen = []
    for page in (1, 2, 3, 4):
        seen += ids(api.get(ORGS, {"page": str(page), "pageSize": "7"}))
    assert seen == expected_ids("-created_at", "-pk")


def test_a_page_past_the_end_is_an_empty_page(api, orgs):
    response = api.get(ORGS, {"page": "99"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == []
    assert body["pagination"] == {"total": 25, "page": 99, "pageSize": 20, "totalPages": 2}


def test_an_empty_result_has_zero_pages(api, orgs):
    response = api.get(ORGS, {"search": "no-organization-matches-this"})
    assert response.status_code == 200
    assert response.json() == {
        "data": [],
        "pagination": {"total": 0, "page": 1, "pageSize": 20, "totalPages": 0},
    }


def test_a_page_size_of_100_is_allowed(api, orgs):
    response = api.get(ORGS, {"pageSize": "100"})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 25


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", " 1", "1\n", "+1"])
def test_a_page_below_1_or_not_an_integer_is_a_bad_request(api, orgs, page):
    assert_bad_request(api.get(ORGS, {"page": page}), "page")


@pytest.mark.parametrize("page_size", ["0", "101", "abc", "-5", "1e2"])
def test_a_page_size_outside_1_to_100_or_not_an_integer_is_a_bad_request(api, orgs, page_size):
    assert_bad_request(api.get(ORGS, {"pageSize": page_size}), "pageSize")


def test_a_page_size_above_100_is_a_bad_request(api, orgs):
    body = assert_bad_request(api.get(ORGS, {"pageSize": "101"}), "pageSize")
    assert body["error"] == "ValidationError"


# -- cursor mode -----------------------------------------------------------------------------------


def test_cursor_mode_answers_the_cursor_envelope(api, orgs):
    response = api.get(ORGS, {"limit": "10"})
    assert response.status_code == 200
    pagination = response.json()["pagination"]
    assert set(pagination) == {"nextCursor", "hasMore", "limit"}
    assert pagination["hasMore"] is True
    assert pagination["limit"] == 10
    assert isinstance(pagination["nextCursor"], str)
    assert ids(response) == expected_ids("-created_at", "-pk")[:10]


def test_cursor_mode_defaults_to_100_rows(api, orgs):
    response = api.get(ORGS, {"cursor": ""})
    assert response.status_code == 200
    body = response.json()
    assert body["pagination"] == {"nextCursor": None, "hasMore": False, "limit": 100}
    assert len(body["data"]) == 25


def test_a_cursor_page_with_more_rows_links_to_the_next_page(api, orgs):
    response = api.get(ORGS, {"limit": "10", "sort": "name"})
    link = response["Link"]
    assert link.endswith('; rel="next"')
    url = urlsplit(link[link.index("<") + 1 : link.index(">")])
    assert url.path == ORGS
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert query == {"sort": "name", "limit": "10", "cursor": response.json()["pagination"]["nextCursor"]}


def test_following_the_link_header_gives_the_next_page(api, orgs):
    first = api.get(ORGS, {"limit": "10"})
    link = first["Link"]
    url = urlsplit(link[link.index("<") + 1 : link.index(">")])
    second = api.get(f"{url.path}?{url.query}")
    assert second.status_code == 200
    assert ids(second) == expected_ids("-created_at", "-pk")[10:20]


def test_the_last_cursor_page_has_no_next_link(api, orgs):
    _, responses = walk(api, {"limit": "10"})
    assert len(responses) == 3
    assert "Link" not in responses[-1]
    assert all("Link" in r for r in responses[:-1])


def test_walking_all_cursor_pages_returns_every_row_once_in_order(api, orgs):
    seen, _ = walk(api, {"limit": "4"})
    assert seen == expected_ids("-created_at", "-pk")


def test_walking_all_cursor_pages_ascending_returns_every_row_once_in_order(api, orgs):
    seen, _ = walk(api, {"limit": "4", "order": "asc"})
    assert seen == expected_ids("created_at", "pk")


def test_walking_all_cursor_pages_sorted_by_name_returns_every_row_once_in_order(api, orgs):
    seen, _ = walk(api, {"limit": "3", "sort": "name", "order": "asc"})
    assert seen == expected_ids("name", "pk")


def test_walking_all_cursor_pages_sorted_by_name_descending_returns_every_row_once(api, orgs):
    seen, _ = walk(api, {"limit": "5", "sort": "name", "order": "desc"})
    assert seen == expected_ids("-name", "-pk")


def test_walking_cursor_pages_of_a_filtered_list_keeps_the_filter(api, orgs):
    for org in orgs[:9]:
        Organization.objects.filter(pk=org.pk).update(status=OrganizationStatus.SUSPENDED)
    seen, _ = walk(api, {"limit": "2", "status": "suspended"})
    assert seen == [
        str(pk)
        for pk in Organization.objects.filter(status="suspended")
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    ]
    assert len(seen) == 9


def test_a_row_added_while_walking_does_not_repeat_earlier_rows(api, orgs):
    first = api.get(ORGS, {"limit": "10", "order": "asc"})
    OrganizationFactory(name="Late arrival", slug="late-arrival")
    rest, _ = walk(
        api, {"limit": "10", "order": "asc"} | {"cursor": first.json()["pagination"]["nextCursor"]}
    )
    seen = ids(first) + rest
    assert len(seen) == len(set(seen)) == 26
    assert seen[-1] == str(Organization.objects.get(slug="late-arrival").pk)


@pytest.mark.parametrize("limit", ["0", "1001", "abc", "-1"])
def test_a_limit_outside_1_to_1000_is_a_bad_request(api, orgs, limit):
    assert_bad_request(api.get(ORGS, {"limit": limit}), "limit")


def test_a_limit_of_1000_is_allowed(api, orgs):
    response = api.get(ORGS, {"limit": "1000"})
    assert response.status_code == 200
    assert response.json()["pagination"]["limit"] == 1000


def _next_cursor(api, **params: str) -> str:
    response = api.get(ORGS, {"limit": "5", **params})
    return response.json()["pagination"]["nextCursor"]


def test_a_tampered_cursor_is_a_bad_request(api, orgs):
    cursor = _next_cursor(api)
    body, _, signature = cursor.partition(".")
    state = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    state["i"] = str(orgs[0].pk)
    forged_body = base64.urlsafe_b64encode(orjson.dumps(state)).rstrip(b"=").decode()
    assert_bad_request(api.get(ORGS, {"limit": "5", "cursor": f"{forged_body}.{signature}"}), "cursor")


def test_a_cursor_with_an_edited_signature_is_a_bad_request(api, orgs):
    cursor = _next_cursor(api)
    edited = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    assert_bad_request(api.get(ORGS, {"limit": "5", "cursor": edited}), "cursor")


def test_a_cursor_signed_with_another_secret_is_a_bad_request(api, orgs, settings):
    settings.PORTA_CURSOR_SECRET = "an attacker's guess"
    forged = encode_cursor(
        {"s": "createdAt", "d": True, "v": "2099-01-01T00:00:00+00:00", "i": str(orgs[0].pk)}
    )
    settings.PORTA_CURSOR_SECRET = settings.SECRET_KEY
    assert_bad_request(api.get(ORGS, {"cursor": forged}), "cursor")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "x.y",
        ".",
        "!!!.###",
        "e30",
        "bm90IGpzb24.AAAAAAAAAAAAAAAAAAAAAA",
        "a" * 5000,
        "e30.\u00e9t\u00e9",
        "\u00e9.\U0001f511",
    ],
)
def test_a_garbage_cursor_is_a_bad_request(api, orgs, cursor):
    assert_bad_request(api.get(ORGS, {"cursor": cursor}), "cursor")


def test_a_validly_signed_cursor_with_a_bad_value_is_a_bad_request(api, orgs):
    cursor = encode_cursor({"s": "createdAt", "d": True, "v": "not a date", "i": "not a uuid"})
    assert_bad_request(api.get(ORGS, {"cursor": cursor}), "cursor")


def test_a_cursor_from_another_sort_is_a_bad_request(api, orgs):
    cursor = _next_cursor(api, sort="name")
    assert_bad_request(api.get(ORGS, {"limit": "5", "sort": "createdAt", "cursor": cursor}), "cursor")


def test_a_cursor_from_another_order_is_a_bad_request(api, orgs):
    cursor = _next_cursor(api, order="asc")
    assert_bad_request(api.get(ORGS, {"limit": "5", "order": "desc", "cursor": cursor}), "cursor")


@pytest.mark.parametrize(
    "params",
    [{"page": "2", "cursor": ""}, {"page": "1", "limit": "10"}, {"pageSize": "10", "limit": "10"}],
)
def test_mixing_page_and_cursor_parameters_is_a_bad_request(api, orgs, params):
    assert_bad_request(api.get(ORGS, params))


# -- sort, order, filters --------------------------------------------------------------------------


def test_an_unknown_sort_is_a_bad_request_listing_the_allowed_fields(api, orgs):
    body = assert_bad_request(api.get(ORGS, {"sort": "password"}), "sort")
    assert "name" in body["details"]["sort"][0]


def test_a_snake_case_sort_is_a_bad_request(api, orgs):
    assert_bad_request(api.get(ORGS, {"sort": "created_at"}), "sort")


@pytest.mark.parametrize("sort", ["createdAt", "updatedAt", "name", "slug"])
def test_every_whitelisted_sort_is_accepted(api, orgs, sort):
    assert api.get(ORGS, {"sort": sort}).status_code == 200


def test_sorting_by_name_ascending_orders_rows_by_name(api, orgs):
    response = api.get(ORGS, {"sort": "name", "order": "asc", "pageSize": "100"})
    names = [row["name"] for row in response.json()["data"]]
    assert names == sorted(names)
    assert ids(response) == expected_ids("name", "pk")


def test_sorting_by_name_descending_orders_rows_by_name_reversed(api, orgs):
    response = api.get(ORGS, {"sort": "name", "order": "desc", "pageSize": "100"})
    names = [row["name"] for row in response.json()["data"]]
    assert names == sorted(names, reverse=True)
    assert ids(response) == expected_ids("-name", "-pk")


def test_the_default_order_is_newest_first(api, orgs):
    assert ids(api.get(ORGS, {"pageSize": "100"})) == expected_ids("-created_at", "-pk")


def test_order_ascending_lists_oldest_first(api, orgs):
    assert ids(api.get(ORGS, {"order": "asc", "pageSize": "100"})) == expected_ids("created_at", "pk")


@pytest.mark.parametrize("order", ["up", "ascending", "1"])
def test_a_bad_order_is_a_bad_request(api, orgs, order):
    assert_bad_request(api.get(ORGS, {"order": order}), "order")


def test_a_status_filter_lists_only_that_status(api, orgs):
    Organization.objects.filter(pk__in=[orgs[0].pk, orgs[1].pk]).update(status=OrganizationStatus.SUSPENDED)
    response = api.get(ORGS, {"status": "suspended"})
    assert response.status_code == 200
    assert sorted(ids(response)) == sorted([str(orgs[0].pk), str(orgs[1].pk)])
    assert response.json()["pagination"]["total"] == 2


def test_a_bad_status_enum_is_a_bad_request(api, orgs):
    assert_bad_request(api.get(ORGS, {"status": "deleted"}), "status")


def test_search_matches_names_case_insensitively(api, orgs):
    response = api.get(ORGS, {"search": "org 03"})
    assert response.status_code == 200
    assert {row["name"] for row in response.json()["data"]} == {"Org 03"}
    assert response.json()["pagination"]["total"] == 3


def test_search_matches_slugs(api, orgs):
    response = api.get(ORGS, {"search": "org-17"})
    assert [row["slug"] for row in response.json()["data"]] == ["org-17"]


def test_search_and_pagination_totals_agree(api, orgs):
    response = api.get(ORGS, {"search": "Org 0", "pageSize": "5", "page": "2"})
    body = response.json()
    assert body["pagination"] == {"total": 24, "page": 2, "pageSize": 5, "totalPages": 5}
    assert len(body["data"]) == 5

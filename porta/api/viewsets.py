"""The base viewset every admin resource derives from: tenancy, lookups, lists and ETags.

Tenancy is enforced here once. Subclasses may not override ``get_queryset``/``get_object``; they
say what their rows are (``scoped_queryset``) and how a row belongs to an organization
(``organization_field``), and the base filters every read and write to the caller's scope.

Paths are resolved here once too: a path segment names a row by its id, or by its slug when the
row's model has a unique one (organizations, applications), whether the row is the resource
itself (``/organizations/{id}``) or the parent of a nested route (``/organizations/{id}/users``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, Q, QuerySet
from rest_framework import status as http
from rest_framework.exceptions import MethodNotAllowed, PermissionDenied, UnsupportedMediaType
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from porta.api.etag import IfMatch, etag_for
from porta.api.pagination import ordering_from_request, paginate
from porta.api.principal import Principal
from porta.core.errors import NotFound, ValidationFailed
from porta.core.ids import parse_uuid
from porta.core.slugs import SLUG_MAX

_FORBIDDEN_OVERRIDES = ("get_queryset", "get_object")


def key_lookup(model: type[Model], value: str, *, via: str = "") -> Q | None:
    """How a path segment names a row of ``model`` (reached through the relation ``via`` when
    given): by id, or by slug when the model's slug is unique. A slug may itself spell a UUID
    (32 hex digits are a valid slug), so such a value matches either. None when the value can
    name no row (→ 404, never a query that fails)."""
    prefix = f"{via}__" if via else ""
    pk = parse_uuid(value)
    by_pk = Q(**{f"{prefix}pk": pk}) if pk is not None else None
    by_slug = (
        Q(**{f"{prefix}slug": value}) if _has_unique_slug(model) and 0 < len(value) <= SLUG_MAX else None
    )
    if by_pk is not None and by_slug is not None:
        return by_pk | by_slug
    return by_pk if by_pk is not None else by_slug


def _has_unique_slug(model: type[Model]) -> bool:
    try:
        return model._meta.get_field("slug").unique
    except FieldDoesNotExist:
        return False


@dataclass(frozen=True, slots=True)
class PathParent:
    """The row a nested route hangs under, e.g. the organization of
    ``/organizations/{organization_id}/users``."""

    #: The path keyword naming the parent (by id, or by slug: see ``key_lookup``).
    kwarg: str
    #: The relation from this resource's rows to the parent.
    field: str
    not_found: str
    #: Path from the parent to its organization's id (``"id"`` for an organization); None for
    #: global parents, which only unscoped callers reach.
    organization_field: str | None = None


@dataclass(frozen=True, slots=True)
class PathRow:
    """A row a route names in its path besides its own rows and its parent, e.g. the user of
    ``/applications/{id}/claims/users/{user_id}``. Declared on the viewset, resolved by
    ``path_row`` within the caller's organization like every other row."""

    #: The path keyword naming the row (by id, or by slug: see ``key_lookup``).
    kwarg: str
    model: type[Model]
    not_found: str
    #: Path from the row to its organization's id; None for global rows.
    organization_field: str | None = None


def apply_filterset(filterset_class, request, queryset: QuerySet) -> QuerySet:
    """Filter ``queryset`` by the request's query; an invalid filter value is a 400 naming it."""
    filterset = filterset_class(request.query_params, queryset=queryset, request=request)
    if not filterset.is_valid():
        errors = {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
        raise ValidationFailed("Invalid filter: " + ", ".join(sorted(errors)), details=errors)
    return filterset.qs


class PortaViewSet(GenericViewSet):
    permission_map: ClassVar[dict[str, str]] = {}
    #: Path from the model to its organization's id (``"id"`` for Organization itself,
    #: ``"organization_id"`` for users). ``None`` marks a global resource, which credentials
    #: scoped to one organization may not use at all.
    organization_field: ClassVar[str | None] = None
    #: Actions that act on the collection as a whole and are therefore global even when
    #: the rows are organization-scoped (listing and creating organizations).
    global_actions: ClassVar[frozenset[str]] = frozenset()
    sort_fields: ClassVar[dict[str, str]] = {"createdAt": "created_at"}
    default_sort: ClassVar[str] = "createdAt"
    default_order: ClassVar[str] = "desc"
    allow_cursor: ClassVar[bool] = True
    filterset_class = None
    output_serializer_class = None
    not_found_message: ClassVar[str] = "Resource not found"
    lookup_value_regex = "[^/]+"
    #: Set on nested routes: every action first resolves the parent (unknown → 404) and every
    #: query is narrowed to its rows.
    parent: ClassVar[PathParent | None] = None
    metadata_class = None  # no OPTIONS self-description: the OpenAPI schema is the description

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _FORBIDDEN_OVERRIDES:
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__} must not override {name}; implement scoped_queryset instead")

    def initial(self, request, *args: Any, **kwargs: Any) -> None:
        # A method the route does not serve is a 405 before any authentication or permission.
        # (HEAD is in the action map exactly where GET is: DRF maps it there.)
        if request.method.lower() not in self.action_map:
            raise MethodNotAllowed(request.method)
        # DRF silently ignores a body sent without a Content-Type; the contract says 415.
        if request.method in ("POST", "PUT", "PATCH") and not request.content_type:
            try:
                has_body = int(request.META.get("CONTENT_LENGTH") or 0) > 0
            except ValueError:
                has_body = True
            if has_body:
                raise UnsupportedMediaType(None, "Send the body as application/json")
        super().initial(request, *args, **kwargs)
        # Refused before the action runs, so actions that never read a queryset (creates) are too.
        if self._global_for(request.auth):
            raise PermissionDenied("Organization-scoped credentials cannot use this resource")
        if self.parent is not None:
            self.path_parent()

    @property
    def allowed_methods(self) -> list[str]:
        """The ``Allow`` header: the methods this route serves (DRF would add OPTIONS, which
        answers 405 here because the OpenAPI schema is the self-description)."""
        action_map = getattr(self, "action_map", None)
        if action_map is None:
            return super().allowed_methods
        return [method.upper() for method in action_map]

    def _global_for(self, principal: Any) -> bool:
        """Whether this action is out of reach of ``principal``'s organization scope."""
        return (
            isinstance(principal, Principal)
            and principal.scope_organization_id is not None
            and (self.organization_field is None or self.action in self.global_actions)
        )

    # -- scope ---------------------------------------------------------------------------------

    @property
    def principal(self) -> Principal:
        return self.request.auth

    def scoped_queryset(self) -> QuerySet:
        """All rows of this resource before tenancy; subclasses narrow or annotate it."""
        return self.queryset.all()

    def get_queryset(self) -> QuerySet:
        queryset = self.scoped_queryset()
        principal = self.request.auth
        if not isinstance(principal, Principal):
            return queryset.none()  # fail closed
        scope = principal.scope_organization_id
        if scope is None:
            return self._under_parent(queryset)
        if self.organization_field is None or self.action in self.global_actions:
            raise PermissionDenied("Organization-scoped credentials cannot use this resource")
        return self._under_parent(queryset.filter(**{self.organization_field: scope}))

    def _under_parent(self, queryset: QuerySet) -> QuerySet:
        """``queryset`` narrowed to the children of the parent the path names: the resolved
        parent once ``path_parent`` has run, else (lazily) whatever the path segment names."""
        if self.parent is None:
            return queryset
        if self.__dict__.get("_path_parent") is not None:
            return queryset.filter(**{self.parent.field: self._path_parent})
        model = queryset.model._meta.get_field(self.parent.field).related_model
        lookup = key_lookup(model, self.kwargs[self.parent.kwarg], via=self.parent.field)
        return queryset.filter(lookup) if lookup is not None else queryset.none()

    def path_parent(self) -> Any:
        """The parent row of a nested route, by id or slug; unknown, malformed or outside the
        caller's organization → 404. The tenancy rule runs first, so a refused caller learns
        nothing about which rows exist. Resolved once per request."""
        if "_path_parent" not in self.__dict__:
            spec = self.parent
            model = self.get_queryset().model._meta.get_field(spec.field).related_model
            self._path_parent = self._scoped_row(model, self.kwargs[spec.kwarg], spec.organization_field)
        if self._path_parent is None:
            raise NotFound(self.parent.not_found)
        return self._path_parent

    def path_row(self, spec: PathRow) -> Any:
        """The row ``spec`` declares for this route's path, within the caller's organization;
        unknown, malformed or another organization's → 404."""
        return self.scoped_row(
            spec.model,
            self.kwargs[spec.kwarg],
            organization_field=spec.organization_field,
            not_found=spec.not_found,
        )

    def scoped_row(
        self, model: type[Model] | QuerySet, value: Any, *, organization_field: str | None, not_found: str
    ) -> Any:
        """The row of ``model`` (or of a queryset of it, to join what the caller reads) that
        ``value`` (a path segment, or an id named in the request body) names within the caller's
        organization; unknown, malformed or another organization's → 404 ``not_found``, never a
        403 that confirms it exists."""
        row = self._scoped_row(model, str(value), organization_field)
        if row is None:
            raise NotFound(not_found)
        return row

    def _scoped_row(self, model: type[Model] | QuerySet, value: str, organization_field: str | None) -> Any:
        """The row of ``model`` that ``value`` names (by id or slug) within the caller's
        organization scope, or None: the one lookup behind every row a path or body names."""
        rows = model.all() if isinstance(model, QuerySet) else model._default_manager.all()
        model = rows.model
        scope = self.principal.scope_organization_id
        if scope is not None and organization_field is not None:
            rows = rows.filter(**{organization_field: scope})
        lookup = key_lookup(model, value)
        return next(iter(rows.filter(lookup)[:1]), None) if lookup is not None else None

    def check_body_organization(
        self, organization_id: Any, *, not_found: str = "Organization not found"
    ) -> None:
        """An organization named by id in the request body, for a service that resolves it itself,
        must be within the caller's scope: another tenant's organization is a 404,
        indistinguishable from one that does not exist (whether it exists and accepts members
        is the service's to say). Other rows a body names are resolved by ``scoped_row``."""
        scope = self.principal.scope_organization_id
        if scope is not None and organization_id != scope:
            raise NotFound(not_found)

    def get_object(self):
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        queryset = self.get_queryset()
        lookup = key_lookup(queryset.model, value)
        # [:1] rather than first(): a lookup by key needs no ORDER BY.
        obj = next(iter(queryset.filter(lookup)[:1]), None) if lookup is not None else None
        if obj is None:
            raise NotFound(self.not_found_message)
        self.check_object_permissions(self.request, obj)
        return obj

    # -- responses -----------------------------------------------------------------------------

    def represent(self, instance: Any) -> dict[str, Any]:
        return self.output_serializer_class.represent(instance)

    def detail_response(self, instance: Any, *, status: int = http.HTTP_200_OK, headers=None) -> Response:
        data = self.represent(instance)
        tag = etag_for(data)
        if status == http.HTTP_200_OK and self.request.method == "GET":
            offered = self.request.META.get("HTTP_IF_NONE_MATCH", "")
            if tag in [t.strip() for t in offered.split(",")]:
                return Response(status=http.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
        return Response(data, status=status, headers={"ETag": tag, **(headers or {})})

    def created_response(self, instance: Any, location: str) -> Response:
        return self.detail_response(instance, status=http.HTTP_201_CREATED, headers={"Location": location})

    @property
    def if_match(self) -> IfMatch | None:
        """The request's ``If-Match`` precondition, as the value services check on the row they
        have locked (no lost update); None when there is nothing to check."""
        return IfMatch.from_request(self.request, self.output_serializer_class.represent)

    def validated(self, serializer_class, data=None, **context: Any) -> dict[str, Any]:
        serializer = serializer_class(
            data=self.request.data if data is None else data,
            context={**self.get_serializer_context(), **context},
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def filtered(self, queryset: QuerySet) -> QuerySet:
        if self.filterset_class is None:
            return queryset
        return apply_filterset(self.filterset_class, self.request, queryset)

    def list_response(self) -> Response:
        """A page (or cursor page) of this resource's rows, scoped and filtered."""
        return self.unscoped_list_response(self.filtered(self.get_queryset()))

    def unscoped_list_response(
        self,
        queryset: QuerySet,
        *,
        serializer=None,
        sort_fields: dict[str, str] | None = None,
    ) -> Response:
        """A page (or cursor page) of ``queryset`` exactly as given: no tenancy is applied, so
        the caller answers for its rows (the collection of a row it has already resolved in
        scope, e.g. a scoped user's roles). Collections of another kind name their
        ``serializer`` and ``sort_fields``."""
        ordering = ordering_from_request(
            self.request.query_params,
            sort_fields=sort_fields or self.sort_fields,
            default_sort=self.default_sort,
            default_order=self.default_order,
        )
        return paginate(
            self.request,
            queryset,
            ordering=ordering,
            serialize=(serializer or self.output_serializer_class).represent_many,
            allow_cursor=self.allow_cursor,
        )

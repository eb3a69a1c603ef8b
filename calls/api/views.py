"""API version 1: read-only viewsets, the sync, exports, and partners' draft submissions.

Query logic lives in `queries` (what is read) and `calls.reading.filters.CallFilterSet` (the one
definition of the public filters, shared with the HTML search); serializers only format.
"""
import functools
from pathlib import Path

import django_filters
import drf_spectacular_sidecar
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from drf_spectacular.views import SpectacularRedocView
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from calls.api import exports, queries
from calls.api.conditional import is_fresh, not_modified, set_validators
from calls.api.pagination import RegistryPagination, is_sync
from calls.api.parsers import MAX_BODY_BYTES, SubmissionJSONParser
from calls.api.permissions import ReadOnlyOrSubmitter
from calls.api.schema_docs import SUBMISSION_ERRORS, SUBMISSION_UNPROCESSABLE
from calls.api.serializers import (
    RENAMED,
    CallSerializer,
    CallSubmissionSerializer,
    FunderSerializer,
    ProgrammeSerializer,
    RemovedCallSerializer,
    SubmittedCallSerializer,
    ThemeSerializer,
    VocabulariesSerializer,
    vocabularies,
)
from calls.api.submissions import numbered_row_errors, submit_call
from calls.choices import PublicationState
from calls.models import Call, Funder, Programme, Theme
from calls.reading import representations as stored
from calls.reading.filters import CallFilterSet
from registry.throttling import ExportRateThrottle

SLUG_PATTERN = r"[-a-zA-Z0-9_]+"

# -- Documented errors ---------------------------------------------------------------------------

ErrorSerializer = inline_serializer("Error", {"detail": serializers.CharField()})
FieldErrorsSerializer = inline_serializer(
    "FieldErrors",
    {"field_name": serializers.ListField(child=serializers.CharField(), required=False)},
)
BAD_PARAMETER = OpenApiResponse(
    FieldErrorsSerializer,
    description="A parameter is invalid: the body maps each bad parameter's name to its messages.",
    examples=[OpenApiExample(
        "Bad region", value={"region": ["Select a valid choice. 99 is not one of the available choices."]}
    )],
)
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such resource (or no such page).")
THROTTLED = OpenApiResponse(
    ErrorSerializer, description="Too many requests: wait the number of seconds in the `Retry-After` header."
)
EXPORT_BEING_BUILT = OpenApiResponse(
    ErrorSerializer, description="The export is being built and no earlier file of it is kept: try again after "
                                 "the `Retry-After` header's seconds. While a fresh file is built, the last one "
                                 "is served instead (200, `X-Export-Stale: true`, built at `Last-Modified`).",
)
UNAUTHORIZED = OpenApiResponse(ErrorSerializer, description="Missing or invalid token (`Authorization: Token <key>`).")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="The token's owner may not do this.")
NOT_MODIFIED = OpenApiResponse(
    description="Not modified since the copy the client has (`If-None-Match` / `If-Modified-Since`)."
)
CONDITIONAL_HEADERS = [
    OpenApiParameter(
        "If-None-Match", OpenApiTypes.STR, OpenApiParameter.HEADER,
        description="An `ETag` from an earlier response: 304 if unchanged.",
    ),
    OpenApiParameter(
        "If-Modified-Since", OpenApiTypes.STR, OpenApiParameter.HEADER,
        description="An HTTP date (`Last-Modified` of an earlier response): 304 if unchanged since.",
    ),
]
READ_ERRORS = {304: NOT_MODIFIED, 401: UNAUTHORIZED, 404: NOT_FOUND, 429: THROTTLED}
# Reads are open to everyone: a token (or a session) is optional, it only lifts the rate.
READ_AUTH = [{"tokenAuth": []}, {"cookieAuth": []}, {}]
LIST_NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description=(
        "No such page (a `page` past the last, a `cursor` the API did not write for this ordering, a page number "
        "in a sync), or a `funder`, `programme` or `theme` slug that names none (the detail says which)."
    ),
)


# -- Base ----------------------------------------------------------------------------------------


class ConditionalReadMixin:
    """Lists and details answer 304 when the client's copy is current, and carry validators
    (from the registry version: `queries.registry_version`, no scan)."""

    daily = False  # whether representations change at midnight (derived statuses)

    def version_key(self, request):
        return f"{request.get_host()}{request.get_full_path()}"

    def version(self, request):
        return queries.registry_version(key=self.version_key(request), daily=self.daily)

    def list(self, request, *args, **kwargs):
        if self.paginator is not None:
            self.paginator.check_query(request)
        queryset = self.filter_queryset(self.get_queryset())
        version = self.version(request)
        if is_fresh(request, version):
            return not_modified(version)
        page = self.paginate_queryset(queryset)
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        return set_validators(response, version)

    def retrieve(self, request, *args, **kwargs):
        queryset = self.get_queryset().filter(**{self.lookup_field: kwargs[self.lookup_field]})
        version = self.version(request)
        if is_fresh(request, version):
            # A copy can only be fresh for a resource that exists: an unknown slug never matches.
            return not_modified(version) if queryset.exists() else self._not_found()
        instance = next(iter(queryset), None)
        if instance is None:
            self._not_found()
        return set_validators(Response(self.get_serializer(instance).data), version)

    def _not_found(self):
        raise NotFound(f"No {self.queryset_label} with this slug.")


def unknown_references(errors, path="") -> list[str]:
    """`field: message` for each error, when every error is a slug naming no object (else [])."""
    found = []
    for key, value in (errors.items() if isinstance(errors, dict) else enumerate(errors)):
        where = f"{path}{key}" if isinstance(key, str) else f"{path}#{key + 1}"
        if isinstance(value, dict) or (
            isinstance(value, list) and value and not all(isinstance(v, str) for v in value)
        ):
            nested = unknown_references(value, f"{where}.")
            if not nested:
                return []
            found += nested
        elif isinstance(value, list):
            if not all(getattr(detail, "code", None) == "does_not_exist" for detail in value):
                return []
            found += [f"{where}: {detail}" for detail in value]
        elif value:
            return []
    return found


class RegistryFilterBackend(DjangoFilterBackend):
    """The one FilterSet; a filter naming a funder, programme or theme that doesn't exist is a 404
    (the schema can't list slugs: any string is a well-formed one), other bad values a 400."""

    REFERENCES = {"funder", "programme", "theme"}

    def filter_queryset(self, request, queryset, view):
        return self.filtered(request, queryset, view)[0]

    def filtered(self, request, queryset, view):
        """The filtered queryset and its (valid) FilterSet: one FilterSet per request (building one
        copies every filter and its form's fields)."""
        empty = [
            name for name, field in view.filterset_class.base_filters.items()
            # `ordering=` is an empty comma-separated list (OpenAPI's `explode: false`): no sort asked for
            if "" in request.query_params.getlist(name)
            and not isinstance(field, django_filters.filters.BaseCSVFilter)
        ]
        if empty:
            # The HTML search ignores an empty field; an API client that sends one has a bug.
            raise DRFValidationError({name: ["Give a value, or leave the parameter out."] for name in empty})
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None and not filterset.is_valid():
            errors = filterset.form.errors.as_data()
            unknown = [
                name for name in errors if name in self.REFERENCES
                and all(error.code in ("invalid_choice", "invalid_pk_value") for error in errors[name])
            ]
            if unknown and set(unknown) == set(errors):
                raise NotFound("; ".join(
                    f"{name}: " + " ".join(str(m) for error in errors[name] for m in error.messages) for name in unknown
                ))
            raise translate_validation(filterset.errors)
        return (queryset if filterset is None else filterset.qs), filterset


class ReadOnlySlugViewSet(ConditionalReadMixin, viewsets.ReadOnlyModelViewSet):
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN
    pagination_class = RegistryPagination
    filter_backends = []


# -- Calls ---------------------------------------------------------------------------------------

# The search filters the FilterSet can't describe well enough itself (slugs, ranges).
SEARCH_PARAMETERS = [
    OpenApiParameter(
        "funder", OpenApiTypes.STR, many=True, explode=True,
        description="Funder slugs (see `funders/`): calls any of them funds.",
    ),
    OpenApiParameter(
        "theme", OpenApiTypes.STR, many=True, explode=True,
        description="Theme slugs (see `themes/`): calls on any of them.",
    ),
    OpenApiParameter(
        "programme", OpenApiTypes.STR,
        description="A programme slug (see `programmes/`): its calls and those of its sub-programmes.",
    ),
    OpenApiParameter(
        "trl", {"type": "integer", "minimum": 1, "maximum": 9},
        description="Your technology readiness level: calls whose TRL range includes it, or states none.",
    ),
    OpenApiParameter(
        "amount", {"type": "integer", "minimum": 0, "maximum": 10**13},
        description="The amount you need, in euros: calls whose highest ceiling reaches it, or state none.",
    ),
    OpenApiParameter(
        "amount_max", {"type": "integer", "minimum": 0, "maximum": 10**13},
        description="The most you need, in euros: calls whose floor is not above it, or state none.",
    ),
    OpenApiParameter(
        "closing_within", {"type": "integer", "minimum": 0, "maximum": 3660},
        description="Days from today: calls whose next deadline falls within them.",
    ),
]

CALL_OR_REMOVED = PolymorphicProxySerializer(
    component_name="CallOrRemoved",
    serializers=[CallSerializer, RemovedCallSerializer],
    resource_type_field_name=None,
    many=True,
)


@extend_schema_view(
    list=extend_schema(
        summary="Search calls",
        description=(
            "The public search's filters (the same FilterSet as the HTML search). Without `status`, open and "
            "upcoming calls only. Results are ordered by `ordering` (deadline soonest by default), then by id.\n\n"
            "**Pages** — `page` and `page_size`; `count` is the number of calls the filters give. The `next` link "
            "carries the next page number and a keyset `cursor` (the last call's sort keys): following it reads "
            "the next page however deep, and a call edited meanwhile does not shift the others.\n\n"
            "**Sync** — with `updated_since`, this list answers as `GET /api/v1/sync/` (same parameters, same "
            "body; kept for clients that use it): every call changed after that instant, whatever its status, "
            "ordered by `updated_at` then `slug`, including calls unpublished or archived since (shown as "
            "`{slug, publication_state, updated_at}`: remove them). The filters choose among published calls "
            "only: withdrawn ones are listed whatever the filters. A slug a curator renamed comes as "
            "`{slug: <old slug>, publication_state: \"renamed\", updated_at}` just before the call under its new "
            "slug: remove the old one. Page with the `next` link (a keyset `cursor`): "
            "edits made while you page move calls after the cursor, so nothing is missed."
        ),
        parameters=[
            *SEARCH_PARAMETERS,
            OpenApiParameter(
                "updated_since", OpenApiTypes.DATETIME,
                description="ISO 8601 instant: every call changed after it: the sync, as `GET /api/v1/sync/` "
                            "(see above).",
            ),
            *CONDITIONAL_HEADERS,
        ],
        auth=READ_AUTH,
        responses={200: CALL_OR_REMOVED, 400: BAD_PARAMETER, **READ_ERRORS, 404: LIST_NOT_FOUND},
    ),
    retrieve=extend_schema(
        summary="A published call",
        parameters=[OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=f"^{SLUG_PATTERN}$"),
                    *CONDITIONAL_HEADERS],
        auth=READ_AUTH,
        responses={200: CallSerializer, **READ_ERRORS},
    ),
    create=extend_schema(
        summary="Submit a call (stored as a draft for the curators)",
        description=(
            "Needs a token whose owner has the permission `calls.submit_call`. The call is always stored as a "
            "`draft` attributed to the token's owner; curators review and publish it. " + SUBMISSION_ERRORS
        ),
        request=CallSubmissionSerializer,
        responses={
            201: OpenApiResponse(SubmittedCallSerializer, description=(
                "Stored as a draft awaiting review: `submission_url` (also the `Location` header) is its address "
                "in the API, readable with the same token; `url` stays null until curators publish it."
            )),
            400: OpenApiResponse(FieldErrorsSerializer, description=(
                "Invalid submission: messages per field (a row's as `#2 closes_on: …`, rows numbered from 1); a "
                "property the schema does not define, or a NUL character, is named too. A `funders[].funder` slug "
                "naming no funder of the registry (see `funders/`) is a 400 on its row, saying to give the "
                "funder's `name` instead: a funder not in the registry is proposed to the curators by its name."
            )),
            401: UNAUTHORIZED, 403: FORBIDDEN, 429: THROTTLED,
            413: OpenApiResponse(ErrorSerializer, description=f"The body is over {MAX_BODY_BYTES // 1024} KiB."),
            409: OpenApiResponse(FieldErrorsSerializer, description=(
                "The `slug` you chose is taken by another call: choose another, or leave it out to get a free one."
            )),
            422: OpenApiResponse(FieldErrorsSerializer, description=SUBMISSION_UNPROCESSABLE),
        },
    ),
)
class CallViewSet(mixins.CreateModelMixin, ReadOnlySlugViewSet):
    queryset_label = "published call"
    serializer_class = CallSerializer
    filter_backends = [RegistryFilterBackend]
    filterset_class = CallFilterSet
    permission_classes = [ReadOnlyOrSubmitter]
    parser_classes = [SubmissionJSONParser]
    sync_enabled = True
    daily = True

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return queries.listing().none()
        return queries.listing()

    def list(self, request, *args, **kwargs):
        """A page of calls: the page's ids (sorted narrow rows), then their stored documents."""
        if is_sync(request):
            # `updated_since` on the list is the sync (`/api/v1/sync/`), answered here as before.
            return sync_response(self, request)
        paginator = self.paginator
        paginator.check_query(request)
        queryset = self.filter_queryset(self.get_queryset())
        version = self.version(request)
        if is_fresh(request, version):
            return not_modified(version)
        count = queries.counted(queryset, query_params=request.query_params, version=version)
        page = paginator.page_of_ids(queryset, request, count=count, values=("current_status", "next_deadline"),
                                     keep=queries.kept_page(queryset, query_params=request.query_params,
                                                            version=version))
        representations = stored.read_representations(queries.listed_rows(page), request=request)
        results = [representations[pk] for pk, *_ in page if pk in representations]
        return set_validators(paginator.get_paginated_response(results), version)

    def retrieve(self, request, *args, **kwargs):
        version = self.version(request)
        rows = stored.document_rows(self.get_queryset().filter(slug=kwargs[self.lookup_field]))
        if is_fresh(request, version):
            # A copy can only be fresh for a resource that exists: an unknown slug never matches.
            return not_modified(version) if rows.exists() else self._not_found()
        representations = stored.read_representations(rows, request=request)
        if not representations:
            self._not_found()
        return set_validators(Response(next(iter(representations.values()))), version)

    def get_serializer_class(self):
        return CallSubmissionSerializer if self.action == "create" else CallSerializer

    def create(self, request, *args, **kwargs):
        submission = CallSubmissionSerializer(data=request.data, context=self.get_serializer_context())
        if not submission.is_valid():
            errors = numbered_row_errors(submission.errors)
            if unknown_references(submission.errors):
                # Well-formed slugs that name nothing (the schema can't list slugs): valid as the
                # schema states them, refused by the registry, like the cross-field rules.
                return Response(errors, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
            raise DRFValidationError(errors)
        try:
            call = submit_call(user=request.user, data=submission.validated_data)
        except DjangoValidationError as error:
            if set(error.message_dict) == {"slug"} and submission.validated_data.get("slug"):
                # The partner's own slug is taken: a conflict with the registry's state, not bad input.
                return Response(error.message_dict, status=status.HTTP_409_CONFLICT)
            # Fields each valid that break a rule together (`submissions.CROSS_FIELD_RULES`).
            return Response(error.message_dict, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        stored = queries.calls_for_api().get(pk=call.pk)
        context = {**self.get_serializer_context(), "proposed_funders": call.proposed_funders}
        body = SubmittedCallSerializer(stored, context=context).data
        # The draft's address in the API (for its submitter), not its public page: that answers
        # only once curators publish it.
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["submission_url"]})


# -- Sync ----------------------------------------------------------------------------------------

INSTANT = serializers.DateTimeField()


def _removal(slug, state, instant) -> dict:
    return {"slug": slug, "publication_state": state, "updated_at": INSTANT.to_representation(instant)}


def sync_response(view, request):
    """Every call changed after `updated_since`, ordered by (`updated_at`, `slug`), a keyset page at a time.

    Published calls in full, chosen by the search's filters (if any); calls published once and
    withdrawn since (archived, back to draft) as `{slug, publication_state, updated_at}` whatever
    the filters: a filter must never match, and so reveal, what a withdrawn call's private content
    says. Just before a call, each slug it was published under and left since (a curator renamed
    it) comes as a removal (`publication_state: "renamed"`). Drafts never published never show.
    """
    paginator = view.paginator
    paginator.check_query(request)
    published, filterset = RegistryFilterBackend().filtered(request, queries.listing(), view)  # 400/404 if bad
    since = filterset.form.cleaned_data["updated_since"]
    version = view.version(request)
    if is_fresh(request, version):
        return not_modified(version)
    # (an empty value was a 400: a filter named is a filter given)
    searched = any(name in request.query_params for name in filterset.filters if name not in SYNC_ONLY)
    if searched:
        withdrawn = queries.once_published().exclude(publication_state=PublicationState.PUBLISHED).filter(
            updated_at__gt=since
        )
        changed = Call.objects.filter(Q(pk__in=published.values("pk")) | Q(pk__in=withdrawn.values("pk")))
    else:  # the same calls, in one condition the `updated_at` index serves
        changed = queries.once_published().filter(updated_at__gt=since)
    changed = changed.order_by("updated_at", "slug")
    ids = paginator.sync_page(changed, request)
    rows = {row[0]: row for row in queries.page_rows(ids, published_only=False, extra=SYNC_EXTRA)}
    representations = stored.read_representations(
        [row for row in rows.values() if row[-2] == PublicationState.PUBLISHED], request=request
    )
    retired = queries.retired_slugs(ids, since=since)
    results = []
    for pk in ids:
        if pk not in rows:
            continue  # deleted meanwhile
        *_, slug, state, updated_at = rows[pk]
        results += [_removal(old, RENAMED, instant) for old, instant in retired.get(pk, [])]
        results.append(representations[pk] if pk in representations else _removal(slug, state, updated_at))
    return set_validators(paginator.get_paginated_response(results), version)


SYNC_EXTRA = ("slug", "publication_state", "updated_at")
SYNC_ONLY = ("updated_since", "ordering")  # parameters that choose no calls in a sync
SYNC_DESCRIPTION = (
    "Every call changed after `updated_since`, whatever its status, ordered by `updated_at` then `slug`, "
    "including calls unpublished or archived since (shown as `{slug, publication_state, updated_at}`: remove "
    "them). The search's filters, if given, choose among published calls only: withdrawn ones are listed "
    "whatever the filters. A slug a curator renamed comes as `{slug: <old slug>, publication_state: "
    "\"renamed\", updated_at}` just before the call under its new slug: remove the old one. Drafts never "
    "published are never listed. Page with the `next` link (a keyset `cursor`): edits made while you page "
    "move calls after the cursor, so nothing is missed; `count` is the number of changes from this page on. "
    "Next time, start from the greatest `updated_at` you stored (a few minutes earlier to be safe: "
    "receiving a call twice is harmless)."
)


@extend_schema_view(
    list=extend_schema(
        summary="Changes since an instant (sync)",
        description=SYNC_DESCRIPTION + "\n\n`GET /api/v1/calls/?updated_since=…` answers the same.",
        parameters=[
            OpenApiParameter(
                "updated_since", OpenApiTypes.DATETIME, required=True,
                description="ISO 8601 instant (with its offset): every call changed after it.",
            ),
            OpenApiParameter("ordering", exclude=True),
            OpenApiParameter("page", exclude=True),
            *SEARCH_PARAMETERS,
            *CONDITIONAL_HEADERS,
        ],
        auth=READ_AUTH,
        responses={200: CALL_OR_REMOVED, 400: BAD_PARAMETER, **READ_ERRORS, 404: LIST_NOT_FOUND},
    ),
)
class CallSyncViewSet(ConditionalReadMixin, viewsets.GenericViewSet):
    """`/api/v1/sync/`: what changed since an instant, for partners keeping a copy."""

    queryset_label = "call"
    serializer_class = CallSerializer
    pagination_class = RegistryPagination
    filter_backends = [RegistryFilterBackend]
    filterset_class = CallFilterSet
    sync_enabled = True
    daily = True

    def get_queryset(self):
        return queries.listing().none() if getattr(self, "swagger_fake_view", False) else queries.listing()

    def list(self, request, *args, **kwargs):
        if not request.query_params.get("updated_since"):
            raise DRFValidationError({"updated_since": ["Required: an ISO 8601 instant (e.g. 2026-11-20T08:30:00Z)."]})
        return sync_response(self, request)


# -- Funders, programmes, themes -----------------------------------------------------------------

def reference_schema(serializer_class):
    return extend_schema_view(
        list=extend_schema(
            parameters=CONDITIONAL_HEADERS,
            responses={200: serializer_class(many=True), 400: BAD_PARAMETER, **READ_ERRORS},
        ),
        retrieve=extend_schema(
            parameters=[
                OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=f"^{SLUG_PATTERN}$"),
                *CONDITIONAL_HEADERS,
            ],
            responses={200: serializer_class, **READ_ERRORS},
        ),
    )


@reference_schema(FunderSerializer)
class FunderViewSet(ReadOnlySlugViewSet):
    queryset_label = "funder"
    queryset = Funder.objects.order_by("name", "pk")
    serializer_class = FunderSerializer


@reference_schema(ProgrammeSerializer)
class ProgrammeViewSet(ReadOnlySlugViewSet):
    queryset_label = "programme"
    queryset = Programme.objects.select_related("parent").prefetch_related("funders").order_by("name", "pk")
    serializer_class = ProgrammeSerializer


@reference_schema(ThemeSerializer)
class ThemeViewSet(ReadOnlySlugViewSet):
    queryset_label = "theme"
    queryset = Theme.objects.order_by("name", "pk")
    serializer_class = ThemeSerializer


# -- Docs ----------------------------------------------------------------------------------------


# ReDoc's bundle shows under its menu a logo it loads from its makers' CDN, which no option turns
# off: this site serves the sidecar's bundle with that address made an empty `data:` image, which
# fails to load and which ReDoc then leaves out. Nothing of the docs comes from another host.
REDOC_BUNDLE = Path(drf_spectacular_sidecar.__file__).parent / (
    "static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
REDOC_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@functools.lru_cache(maxsize=1)
def redoc_bundle() -> bytes:
    """The sidecar's ReDoc bundle, its CDN logo replaced (read once per process)."""
    return REDOC_BUNDLE.read_text(encoding="utf-8").replace(REDOC_CDN_LOGO, "data:,").encode()


def redoc_script(request):
    response = HttpResponse(redoc_bundle(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


class RedocView(SpectacularRedocView):
    """ReDoc, served from this site under its Content-Security-Policy: no CDN, no inline script.

    ReDoc styles itself by inserting <style> elements and runs its search in a Worker made from
    a blob: this page alone allows inline styles and blob workers; scripts stay 'self' only. Its
    bundle comes from `redoc_script`, which leaves out the logo ReDoc would load from its CDN.
    """

    template_name = "api/redoc.html"

    @staticmethod
    def _redoc_standalone():
        return reverse("api-redoc-script")
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = self.policy
        return response


# -- Vocabularies and exports --------------------------------------------------------------------


class VocabulariesView(APIView):
    @extend_schema(
        summary="Controlled vocabularies",
        description="The codes calls use (types, statuses, beneficiaries, aid forms, funder kinds and roles, "
                    "scopes, regions by INSEE code…), each with its French and English label.",
        responses={200: VocabulariesSerializer, 429: THROTTLED},
    )
    def get(self, request):
        return Response(vocabularies())


class ExportJSONView(APIView):
    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, ExportRateThrottle]
    @extend_schema(
        summary="Full export of the published registry (JSON)",
        description=f"Every published call, in the API's representation, built whole before it is sent (a complete "
                    f"file with its `Content-Length`, or an error). Open data: {exports.LICENCE['name']}"
                    f" ({exports.LICENCE['url']}), also stated in the `Link` header.",
        responses={
            200: inline_serializer("CallsExport", {
                "licence": inline_serializer("Licence", {
                    "name": serializers.CharField(), "url": serializers.URLField(),
                    "attribution": serializers.CharField(),
                }),
                "generated_at": serializers.DateTimeField(),
                "calls": CallSerializer(many=True),
            }),
            429: THROTTLED,
            503: EXPORT_BEING_BUILT,
        },
    )
    def get(self, request):
        return exports.json_download(queries.published_calls().order_by("slug"), request=request)


class ExportCSVView(APIView):
    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, ExportRateThrottle]
    # The file is CSV whatever is negotiated; errors are JSON, like the rest of the API.
    renderer_classes = [JSONRenderer, exports.CSVRenderer]

    @extend_schema(
        summary="Full export of the published registry (CSV)",
        description=f"Every published call, one row each; lists are `|`-separated codes. Open data: "
                    f"{exports.LICENCE['name']} ({exports.LICENCE['url']}).",
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV with a header row."),
            404: OpenApiResponse(ErrorSerializer, description="Unknown `format` (`csv` or `json`: both give the CSV "
                                                              "file; errors are JSON)."),
            429: THROTTLED,
            503: EXPORT_BEING_BUILT,
        },
    )
    def get(self, request):
        if request.query_params.get("format", "csv") not in ("csv", "json"):
            raise NotFound("Unknown format: `csv` or `json`.")
        return exports.csv_download(queries.published_listing().order_by("slug"), request=request)

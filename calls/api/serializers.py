"""Representations of the API, version 1: the field names and types are the partners' contract.

Serializers only read what the viewsets fetched (annotations and prefetched relations from
`calls.api.queries`); they never query. Amounts are integers in euros, dates ISO 8601, codes
from the vocabularies (`/api/v1/vocabularies/`).
"""
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calls import fields as call_fields
from calls.choices import (
    REGIONS,
    AidForm,
    Beneficiary,
    CallType,
    DatePrecision,
    FunderKind,
    FunderRole,
    PublicationState,
    Recurrence,
    Scope,
    Status,
)
from calls.dates import validate_supported_date
from calls.models import Call, Ceiling, Funder, Laureate, Programme, Round, Source, Theme
from calls.reading.documents import URL_FIELD, call_values, public_path

REGION_CHOICES = sorted(REGIONS.items())


def absolute_url(request, path):
    return request.build_absolute_uri(path) if request is not None else path


# What Django's URL validator accepts, as a pattern the schema can state: http(s), a host of at
# most four labels of at most 50 characters (Django refuses labels over 63 characters and hosts
# over 253), an optional port, path and query. Clients know before sending what is refused.
WEB_ADDRESS = (
    r"https?://(?:[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?\.){1,3}[a-z]{2,20}(?::[0-9]{1,5})?(?:[/?#][^\s]*)?"
)


@extend_schema_field({"type": "string", "format": "uri", "maxLength": 500, "pattern": f"^{WEB_ADDRESS}$"})
class WebAddressField(serializers.URLField):
    """A web page's address (http or https), as the schema documents it."""


@extend_schema_field({"type": "string", "maxLength": 500, "pattern": f"^(?:{WEB_ADDRESS})?$"})
class OptionalWebAddressField(serializers.URLField):
    """A web page's address, or an empty string when there is none."""


REGISTRY_DATE = r"^(?:199[0-9]|20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"


@extend_schema_field({"type": "string", "format": "date", "pattern": REGISTRY_DATE})
class RegistryDateField(serializers.DateField):
    """A date of the registry: years 1990 to 2100 (`calls.dates`), as the schema documents it and
    checked here, on the field (a 400 naming it), like everything else the schema states."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(validate_supported_date)


class OptionalTextField(serializers.CharField):
    """A text the registry may not know: `null` when missing, like a missing number (never `""`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return str(value) if value else None


class OptionalChoiceField(serializers.ChoiceField):
    """A code the sources may not give: `null` when not stated (never `""`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return super().to_representation(value) if value else None


class CodeListField(serializers.ListField):
    """The codes of a prefetched many-to-many relation (list or manager), sorted: `["sme", "startup"]`."""

    def __init__(self, *, attribute="pk", **kwargs):
        self.attribute = attribute
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, related):
        items = related.all() if hasattr(related, "all") else related
        return sorted(str(getattr(item, self.attribute)) for item in items)


# -- Reference data ------------------------------------------------------------------------------


class ProgrammeRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Programme
        fields = ["slug", "name"]


class FunderRoleSerializer(serializers.Serializer):
    """A funder of a call, with its role in it."""

    slug = serializers.SlugField(source="funder.slug")
    name = serializers.CharField(source="funder.name")
    acronym = serializers.CharField(source="funder.acronym")
    kind = serializers.ChoiceField(source="funder.kind", choices=FunderKind.choices)
    role = serializers.ChoiceField(choices=FunderRole.choices)


class RoundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Round
        fields = ["name", "opens_on", "opens_on_precision", "closes_on", "closes_on_precision", "budget_eur"]


class CeilingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ceiling
        fields = ["amount_eur", "condition"]


class SourceSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="display_title")
    url = serializers.CharField(source="display_url", help_text="A URL, or empty for a printed document.")

    class Meta:
        model = Source
        fields = ["title", "url", "locator", "accessed_on"]


class LaureateSerializer(serializers.ModelSerializer):
    region = serializers.ChoiceField(
        source="region_id", choices=REGION_CHOICES, allow_null=True, help_text="INSEE region code."
    )

    class Meta:
        model = Laureate
        fields = ["organisation", "project", "amount_eur", "region", "year"]


# -- Calls ---------------------------------------------------------------------------------------


RENAMED = "renamed"


class RemovedCallSerializer(serializers.ModelSerializer):
    """A call no longer public (back to draft, or archived), or a slug a curator renamed: what a
    partner needs to remove it."""

    publication_state = serializers.ChoiceField(
        choices=[(PublicationState.DRAFT, "Draft"), (PublicationState.ARCHIVED, "Archived"),
                 (RENAMED, "Renamed: the call now has another slug")],
        help_text="Not published any more (or not under this slug): remove it from your copy.",
    )

    class Meta:
        model = Call
        fields = ["slug", "publication_state", "updated_at"]


class CallListSerializer(serializers.ListSerializer):
    """A list of calls: published ones in full, others (only in `updated_since` syncs) as removals."""

    def to_representation(self, data):
        removed = RemovedCallSerializer(context=self.context)
        instant_field = serializers.DateTimeField()
        items = []
        for call in data:
            items += [
                {"slug": slug, "publication_state": RENAMED, "updated_at": instant_field.to_representation(instant)}
                for slug, instant in getattr(call, "retired_slugs", [])
            ]
            items.append(
                self.child.to_representation(call)
                if call.publication_state == PublicationState.PUBLISHED
                else removed.to_representation(call)
            )
        return items


class CallSerializer(serializers.ModelSerializer):
    """A call as partners get it: the schema's description of it, field by field.

    Its representation is the read side's (`calls.reading.documents.call_values`, what the read model
    stores and the API's lists read), with what depends on the request, today and other calls
    (the absolute `url`, `status`, `next_deadline`, the editions) from the fields declared here:
    one representation, whether a call is read from its stored document or serialized live. The
    call comes from `queries.calls_for_api()` (its status annotated, its rows prefetched);
    `tests/reading/test_call_document.py` checks that the declared fields, represented by DRF one by one,
    give the same values."""

    url = serializers.SerializerMethodField(help_text="The call's public page.")
    status = serializers.ChoiceField(
        source="current_status", choices=Status.choices, read_only=True,
        help_text="Derived from the dates today (Europe/Paris): upcoming, open or closed.",
    )
    call_type = serializers.ChoiceField(choices=CallType.choices)
    programme = ProgrammeRefSerializer(allow_null=True, read_only=True)
    funders = FunderRoleSerializer(source="funder_roles", many=True, read_only=True)
    next_deadline = serializers.DateField(
        read_only=True, allow_null=True, help_text="The nearest closing date (of a round, else of the call) from today."
    )
    rounds = RoundSerializer(many=True, read_only=True)
    ceilings = CeilingSerializer(many=True, read_only=True)
    max_ceiling_eur = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The highest per-project ceiling."
    )
    aid_forms = CodeListField(child=serializers.ChoiceField(choices=AidForm.choices))
    beneficiaries = CodeListField(child=serializers.ChoiceField(choices=Beneficiary.choices))
    regions = CodeListField(
        child=serializers.ChoiceField(choices=REGION_CHOICES), help_text="Eligible regions (INSEE codes).",
    )
    themes = CodeListField(attribute="slug", child=serializers.SlugField(), help_text="Theme slugs.")
    sources = SourceSerializer(many=True, read_only=True)
    laureates = LaureateSerializer(many=True, read_only=True)
    apply_url = OptionalTextField(help_text="Where to apply (a URL), or null when unknown.")
    title_en = OptionalTextField(help_text="The registry's English title, or null when none is written yet.")
    summary_en = OptionalTextField(help_text="The registry's English summary, or null when none is written yet.")
    recurrence = OptionalChoiceField(
        choices=Recurrence.choices,
        help_text="one_off, recurring, or permanent (a standing scheme, open until an end date closes it); "
                  "null when the sources do not say.",
    )
    eligible_expenses = OptionalTextField(help_text="What expenses the call funds, or null when unknown.")
    previous_edition = serializers.SerializerMethodField(help_text="Slug of the previous edition, if public.")
    next_edition = serializers.SerializerMethodField(help_text="Slug of the next edition, if public.")

    class Meta:
        model = Call
        list_serializer_class = CallListSerializer
        fields = call_fields.names(api=True)  # declared once, in calls/fields.py
        read_only_fields = fields

    def to_representation(self, call):
        """The call's stored values, and the request's, today's and the editions' from their fields."""
        stored = call_values(call)
        representation = {}
        for name, field in self.fields.items():
            if name in stored and name != URL_FIELD:
                representation[name] = stored[name]
            else:
                attribute = field.get_attribute(call)
                representation[name] = None if attribute is None else field.to_representation(attribute)
        return representation

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, call):
        return absolute_url(self.context.get("request"), public_path(call))

    @extend_schema_field({"type": "string", "nullable": True})
    def get_previous_edition(self, call):
        return call.public_previous_edition.slug if call.public_previous_edition else None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_next_edition(self, call):
        return call.public_next_edition.slug if call.public_next_edition else None


# -- Funders, programmes, themes -----------------------------------------------------------------


class FunderSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The funder's public page.")
    region = serializers.ChoiceField(
        source="region_id", choices=REGION_CHOICES, allow_null=True, help_text="INSEE code, for regional funders."
    )
    website = OptionalTextField(help_text="The funder's website (a URL), or null when unknown.")
    name_en = OptionalTextField(
        help_text="The registry's English gloss of the official name (our words), or null when none is written."
    )

    class Meta:
        model = Funder
        fields = ["slug", "url", "name", "name_en", "acronym", "kind", "region", "country", "website", "description"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, funder):
        return absolute_url(self.context.get("request"), public_path(funder))


class ProgrammeSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The programme's public page.")
    parent = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True, help_text="Parent programme's slug."
    )
    funders = CodeListField(attribute="slug", child=serializers.SlugField(), help_text="Funder slugs.")
    name_en = OptionalTextField(
        help_text="The registry's English gloss of the official name (our words), or null when none is written."
    )

    class Meta:
        model = Programme
        fields = [
            "slug", "url", "name", "name_en", "parent", "funders", "budget_eur", "starts_on", "starts_on_precision",
            "ends_on", "ends_on_precision", "description",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, programme):
        return absolute_url(self.context.get("request"), public_path(programme))


class ThemeSerializer(serializers.ModelSerializer):
    name_fr = serializers.CharField(source="name")

    class Meta:
        model = Theme
        fields = ["slug", "name_fr", "name_en"]


# -- Vocabularies --------------------------------------------------------------------------------


class TermSerializer(serializers.Serializer):
    code = serializers.CharField()
    label_fr = serializers.CharField()
    label_en = serializers.CharField()


class VocabulariesSerializer(serializers.Serializer):
    """Every controlled vocabulary: the codes the calls use, with French and English labels."""

    call_types = TermSerializer(many=True)
    statuses = TermSerializer(many=True)
    beneficiary_types = TermSerializer(many=True)
    aid_forms = TermSerializer(many=True)
    funder_kinds = TermSerializer(many=True)
    funder_roles = TermSerializer(many=True)
    scopes = TermSerializer(many=True)
    regions = TermSerializer(many=True, help_text="French regions by INSEE code.")
    publication_states = TermSerializer(many=True)
    date_precisions = TermSerializer(many=True)


VOCABULARIES = {
    "call_types": CallType.choices,
    "statuses": Status.choices,
    "beneficiary_types": Beneficiary.choices,
    "aid_forms": AidForm.choices,
    "funder_kinds": FunderKind.choices,
    "funder_roles": FunderRole.choices,
    "scopes": Scope.choices,
    "regions": REGION_CHOICES,
    "publication_states": PublicationState.choices,
    "date_precisions": DatePrecision.choices,
}


def vocabularies() -> dict:
    """The vocabularies with their labels in French and in English."""

    def labels(language):
        with translation.override(language):
            return {name: [str(label) for _code, label in choices] for name, choices in VOCABULARIES.items()}

    french, english = labels("fr"), labels("en")
    return {
        name: [
            {"code": code, "label_fr": french[name][i], "label_en": english[name][i]}
            for i, (code, _label) in enumerate(choices)
        ]
        for name, choices in VOCABULARIES.items()
    }


# -- Submissions ---------------------------------------------------------------------------------

# At most this many rows in each list of a submission (funders, rounds, ceilings, sources, themes,
# aid forms, beneficiaries, regions): far more than any call has; more is a 400 naming the list.
MAX_ROWS = 50

# What a submission's texts may hold, as the schema states it (`schema_hooks` sets these patterns
# on every free text of the submission): DRF refuses a NUL character in any text, and trims texts,
# so a required one (a title, a round's name) needs a character that is not whitespace.
TEXT = r"^[^\u0000]*$"
NON_BLANK_TEXT = r"^[^\u0000]*[^\u0000\s][^\u0000]*$"
# A registry object named by its slug (a programme, a funder): only a slug can name one.
SLUG = r"^[-a-zA-Z0-9_]+$"


def holds_nul(value) -> bool:
    """Whether a NUL character hides in parsed JSON (in a key or a string, however deep)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


class ClosedSerializer(serializers.Serializer):
    """A submission's object (the call, a row). A property it does not define is a 400 naming it
    (a misspelt field would otherwise be dropped without a word); so is a NUL character anywhere in
    a field, checked before anything else (PostgreSQL refuses NUL in a text: a slug holding one
    must never reach a query)."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            return super().to_internal_value(data)
        nul = [name for name, value in data.items() if holds_nul(name) or holds_nul(value)]
        if nul:
            message = _("No NUL character (\\u0000) is allowed, in any text.")
            raise serializers.ValidationError({name.replace("\x00", "\\u0000"): [message] for name in nul})
        errors = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            errors = dict(error.detail)
        for name in sorted(set(data) - set(self.fields)):
            errors[name] = [self.unknown_field_message(name)]
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def unknown_field_message(self, name):
        return _("Unknown field: a submission's fields are listed in the schema (/api/schema/).")


def _submitted_funders_schema():
    """`funders` items hold exactly one of `funder` and `name`: the schema says so with `oneOf`."""
    role = {"type": "string", "enum": list(FunderRole.values), "default": FunderRole.FUNDER}
    by_slug = {
        "type": "object", "title": "A funder of the registry", "required": ["funder"],
        "not": {"required": ["name"]}, "additionalProperties": False,
        "properties": {"funder": {"type": "string", "minLength": 1, "pattern": SLUG,
                                  "description": "Slug of a funder of the registry."},
                       "role": role},
    }
    by_name = {
        "type": "object", "title": "A funder not in the registry yet", "required": ["name"],
        "not": {"required": ["funder"]}, "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NON_BLANK_TEXT},
            "kind": {"type": "string", "enum": list(FunderKind.values)},
            "website": {"type": "string", "format": "uri", "maxLength": 500, "pattern": f"^{WEB_ADDRESS}$"},
            "role": role,
        },
    }
    return {"type": "array", "maxItems": MAX_ROWS, "items": {"oneOf": [by_slug, by_name]}}


@extend_schema_field(_submitted_funders_schema())
class SubmittedFunderListSerializer(serializers.ListSerializer):
    """The submitted call's funders, documented item by item as one funder or the other."""


class RegistryFunderField(serializers.SlugRelatedField):
    """A registry funder by its slug. A slug naming none is a mistake in the request, not a
    reference the registry lacks: the partner names such a funder by `name` (proposed to the
    curators), so the answer is a 400 saying so (code `unknown_funder`), not the 422 of a programme
    or a theme that does not exist."""

    default_error_messages = {"unknown_funder": _(
        "No funder has the slug “{value}”: give its `name` instead to propose a funder not in the registry yet."
    )}

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            if any(detail.code == "does_not_exist" for detail in error.detail):
                self.fail("unknown_funder", value=data)
            raise


class SubmittedFunderSerializer(ClosedSerializer):
    """A funder of the submitted call: one of the registry's, by `funder` (its slug), or one not in
    the registry yet, by `name` (with `kind` and `website` if known). A funder named so is proposed
    to the curators with the draft (in its curator note); they add it to the registry on review."""

    funder = RegistryFunderField(
        slug_field="slug", queryset=Funder.objects.all(), required=False,
        help_text="Slug of a funder of the registry (see `funders/`); a funder not in it is named by `name`.",
    )
    name = serializers.CharField(
        max_length=200, required=False, help_text="Name of a funder not in the registry yet (instead of `funder`).",
    )
    kind = serializers.ChoiceField(
        choices=FunderKind.choices, required=False, help_text="With `name`: the proposed funder's kind, if known.",
    )
    website = WebAddressField(
        max_length=500, required=False, help_text="With `name`: the proposed funder's website, if known.",
    )
    role = serializers.ChoiceField(choices=FunderRole.choices, default=FunderRole.FUNDER)

    class Meta:
        list_serializer_class = SubmittedFunderListSerializer

    def validate(self, attrs):
        if ("funder" in attrs) == ("name" in attrs):
            raise serializers.ValidationError(
                _("Give either `funder` (a registry funder's slug) or `name` (a funder not in the registry yet).")
            )
        return attrs


class SubmittedRoundSerializer(ClosedSerializer):
    name = serializers.CharField(max_length=200)
    opens_on = RegistryDateField(required=False, allow_null=True)
    closes_on = RegistryDateField(required=False, allow_null=True)
    budget_eur = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=10**15)


class SubmittedCeilingSerializer(ClosedSerializer):
    amount_eur = serializers.IntegerField(min_value=1, max_value=10**15)
    condition = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class SubmittedSourceSerializer(ClosedSerializer):
    title = serializers.CharField(max_length=500)
    url = OptionalWebAddressField(max_length=500, required=False, allow_blank=True, default="")
    locator = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    accessed_on = RegistryDateField(required=False, allow_null=True)


class SlugOrNullField(serializers.SlugRelatedField):
    """An object by its slug, or null; an empty string is neither (DRF would take it for null)."""

    def run_validation(self, data=serializers.empty):
        if data == "":  # DRF's related fields take "" for null
            raise serializers.ValidationError(_("Give a programme's slug, or null."))
        return super().run_validation(data)


class CallSubmissionSerializer(ClosedSerializer):
    """A call handed in by a partner. It is stored as a draft for the curators to review.

    `publication_state` cannot be chosen: a submission is always a draft. `slug` is made from
    the title when not given. Amounts are integers in euros, dates ISO 8601 (YYYY-MM-DD), in the
    years 1990 to 2100. Each list holds at most 50 rows; the body is at most 256 KiB of JSON,
    nested at most 20 levels deep (413 and 400 beyond).
    """

    title = serializers.CharField(max_length=300)
    slug = serializers.SlugField(max_length=150, required=False)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    call_type = serializers.ChoiceField(choices=CallType.choices)
    programme = SlugOrNullField(
        slug_field="slug", queryset=Programme.objects.all(), required=False, allow_null=True
    )
    funders = SubmittedFunderSerializer(many=True, required=False, default=list, max_length=MAX_ROWS)
    opens_on = RegistryDateField(required=False, allow_null=True)
    closes_on = RegistryDateField(required=False, allow_null=True)
    is_rolling = serializers.BooleanField(required=False, default=False)
    rounds = SubmittedRoundSerializer(many=True, required=False, default=list, max_length=MAX_ROWS)
    total_budget_eur = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=10**15)
    ceilings = SubmittedCeilingSerializer(many=True, required=False, default=list, max_length=MAX_ROWS)
    floor_eur = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=10**15)
    funding_rate_min_pct = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100)
    funding_rate_max_pct = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100)
    aid_forms = serializers.ListField(
        child=serializers.ChoiceField(choices=AidForm.choices), required=False, default=list, max_length=MAX_ROWS
    )
    beneficiaries = serializers.ListField(
        child=serializers.ChoiceField(choices=Beneficiary.choices), required=False, default=list,
        max_length=MAX_ROWS,
    )
    scope = serializers.ChoiceField(choices=Scope.choices, required=False, default=Scope.NATIONAL)
    regions = serializers.ListField(
        child=serializers.ChoiceField(choices=REGION_CHOICES), required=False, default=list, max_length=MAX_ROWS
    )
    themes = serializers.ListField(
        child=serializers.SlugField(max_length=80), required=False, default=list, max_length=MAX_ROWS,
        help_text="Theme slugs (see `themes/`).",
    )
    trl_min = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=9)
    trl_max = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=9)
    consortium_required = serializers.BooleanField(required=False, allow_null=True, default=None)
    eligibility = serializers.CharField(required=False, allow_blank=True, default="")
    eligible_expenses = serializers.CharField(required=False, allow_blank=True, default="")
    apply_url = OptionalWebAddressField(max_length=500, required=False, allow_blank=True, default="")
    sources = SubmittedSourceSerializer(many=True, required=False, default=list, max_length=MAX_ROWS)
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000,
        help_text="Anything the curators should know (kept in the curator note).",
    )

    def validate_themes(self, value):
        """The themes, read in one query; an unknown slug is named."""
        themes = {theme.slug: theme for theme in Theme.objects.filter(slug__in=value)}
        unknown = sorted(set(value) - set(themes))
        if unknown:
            raise serializers.ValidationError(
                _("No theme has the slug: %(slugs)s (see /api/v1/themes/).") % {"slugs": ", ".join(unknown)},
                code="does_not_exist",
            )
        return [themes[slug] for slug in dict.fromkeys(value)]

    def unknown_field_message(self, name):
        if name == "publication_state":
            return _("A submission is always stored as a draft for the curators: leave `publication_state` out.")
        return super().unknown_field_message(name)


REVIEW_STATES = {
    PublicationState.DRAFT: "awaiting_review", PublicationState.PUBLISHED: "published",
    PublicationState.ARCHIVED: "archived",
}


class SubmittedCallSerializer(CallSerializer):
    """A call a partner submitted, as its submitter sees it: the stored draft, where to follow it
    (`submission_url`, readable with the same token) and whether the curators published it yet.
    `url`, the public page, is null until the call is published."""

    submission_url = serializers.SerializerMethodField(
        help_text="This submission's address in the API (GET it with the same token to follow its review)."
    )
    review_state = serializers.SerializerMethodField(
        help_text="`awaiting_review` until the curators publish the call (or archive it).",
    )
    detail = serializers.SerializerMethodField(help_text="What happens next, in the request's language.")

    class Meta(CallSerializer.Meta):
        fields = ["submission_url", "review_state", "detail", *CallSerializer.Meta.fields]
        read_only_fields = fields
        list_serializer_class = serializers.ListSerializer  # drafts in full: their submitter's own

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_url(self, call):
        return super().get_url(call) if call.publication_state == PublicationState.PUBLISHED else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_submission_url(self, call):
        return absolute_url(self.context.get("request"), reverse("api-submission-detail", args=[call.slug]))

    @extend_schema_field({"type": "string", "enum": ["awaiting_review", "published", "archived"]})
    def get_review_state(self, call):
        return REVIEW_STATES[call.publication_state]

    def get_detail(self, call) -> str:
        if call.publication_state == PublicationState.DRAFT:
            message = _("Stored as a draft: the registry's curators will review it before it is published.")
        elif call.publication_state == PublicationState.PUBLISHED:
            message = _("Published by the registry's curators.")
        else:
            message = _("Archived by the registry's curators.")
        proposed = self.context.get("proposed_funders") or []
        if proposed:
            message = f"{message} " + _("Funders not in the registry yet, proposed to the curators: %(names)s.") % {
                "names": ", ".join(proposed)
            }
        return str(message)

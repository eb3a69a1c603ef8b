"""The one FilterSet of the registry: the public search page and the API both use it.

Filter names are the public contract. Eligibility filters read as an applicant reads them:
`region=11` keeps every call open to an applicant located in Île-de-France (national,
European, international calls, and regional calls that include region 11); `amount`,
`trl` and `beneficiary` keep calls that state nothing on the matter, since they may apply.
"""
import contextlib
import datetime
import functools
import hashlib

import django_filters
from django import forms
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, F, Q, Value
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from calls.choices import REGIONS, AidForm, Beneficiary, CallType, FunderKind, Status
from calls.models import Call, CallFacet, Funder, Programme, Theme
from calls.querysets import status_condition, status_expression, today
from calls.reading import read_model
from calls.reading.cards import calls_with_cards
from calls.reading.editions import expected_editions

DEFAULT_STATUSES = [Status.OPEN, Status.UPCOMING]
# Foreign schemes are kept as references: out of the search unless the visitor asks for them.
FOREIGN_EXCLUDED, FOREIGN_INCLUDED, FOREIGN_ONLY = "exclude", "include", "only"
DEFAULT_FOREIGN = FOREIGN_EXCLUDED
FACET_CACHE_SECONDS = 300
MAX_DAYS = 3660
# No filter value is longer, and no filter is repeated more often, in a real search: beyond,
# the search is refused (a form error, a 400), never run without that filter.
MAX_VALUE_LENGTH = 200
MAX_VALUES = 50


class CallOrderingFilter(django_filters.OrderingFilter):
    """Sorting: deadline soonest (default), newest, highest ceiling, relevance (with `q`)."""

    SORTS = {
        # Then past calls, the one that closed last first (its last period's end: a round's or its own).
        "deadline": [F("next_deadline").asc(nulls_last=True), F("last_open_day").desc(), "title"],
        "newest": [F("published_at").desc(nulls_last=True), "-created_at", "title"],
        "ceiling": [F("max_ceiling").desc(nulls_last=True), "title"],
        "relevance": ["-rank", "title"],
    }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [
            ("deadline", _("Deadline soonest")),
            ("newest", _("Newest")),
            ("ceiling", _("Highest ceiling")),
            ("relevance", _("Relevance")),
        ])
        kwargs.setdefault("label", _("Sort by"))
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        sort = value[0] if value else None
        if sort == "relevance" and "rank" not in qs.query.annotations:
            sort = None
        if not sort:
            sort = "relevance" if "rank" in qs.query.annotations else "deadline"
        return qs.order_by(*self.SORTS[sort], "pk")


def without_empty_values(data):
    """The query without its empty values: `?status=&funder=` is a search with neither filter."""
    if not hasattr(data, "getlist"):
        return {name: value for name, value in data.items() if value not in ("", None, [])}
    cleaned = data.copy()
    for name in list(cleaned):
        values = [value for value in cleaned.getlist(name) if value != ""]
        if values:
            cleaned.setlist(name, values)
        else:
            del cleaned[name]
    return cleaned


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (a TRL, a number of days): `4.5` is an error, not rounded."""

    field_class = forms.IntegerField



class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 instant, turned into UTC before any query: an offset such as +17:08, which
    ISO allows and PostgreSQL refuses, is then no server error. An instant whose offset takes it
    before year 1 or past year 9999 in UTC (0001-01-01T00:00+03:00) is any valid ISO instant, as
    the schema's `date-time` says: it becomes the first or last instant Python has, which selects
    the same changes (all, or none)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:
            edge = datetime.datetime.min if value.year == datetime.MINYEAR else datetime.datetime.max
            return edge.replace(tzinfo=datetime.UTC)


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField

# Filters whose choices are rows of the registry (funders, programmes, themes): listed from the
# database once per registry version and language, not on every page (a search page lists them all).
REFERENCE_FILTERS = ("funder", "programme", "theme")


@functools.lru_cache(maxsize=32)
def reference_choices(name: str, version: int, language: str) -> tuple:
    """(slug, label) of each choice of a reference filter, as its form field would list them.

    Kept per process, keyed by the registry version (every write through the services moves it:
    a funder renamed or added shows at once) and the language (a theme's name is translated)."""
    field = CallFilterSet.base_filters[name].field
    return tuple((str(value), str(label)) for value, label in field.choices if value != "")


class CallFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_text", label=_("Search"), max_length=200)
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, method="filter_status", label=_("Status"),
        help_text=_("Open and upcoming calls unless you choose."),
    )
    funder = django_filters.ModelMultipleChoiceFilter(
        queryset=Funder.objects.all(), to_field_name="slug", method="filter_funder", label=_("Funder"),
        field_name="funders",  # what the value names, for the schema (the method reads the facet rows)
    )
    funder_kind = django_filters.MultipleChoiceFilter(
        choices=FunderKind.choices, method="filter_funder_kind", label=_("Kind of funder"),
    )
    programme = django_filters.ModelChoiceFilter(
        queryset=Programme.objects.all(), to_field_name="slug", method="filter_programme", label=_("Programme"),
    )
    # One call has one type: no DISTINCT needed (it would compare every column of every row).
    call_type = django_filters.MultipleChoiceFilter(choices=CallType.choices, label=_("Type of call"), distinct=False)
    beneficiary = django_filters.MultipleChoiceFilter(
        choices=Beneficiary.choices, method="filter_beneficiary", label=_("I am a…"),
    )
    region = django_filters.ChoiceFilter(
        choices=sorted(REGIONS.items(), key=lambda item: item[1]), method="filter_region",
        label=_("My region"),
    )
    theme = django_filters.ModelMultipleChoiceFilter(
        queryset=Theme.objects.all(), to_field_name="slug", method="filter_theme", label=_("Theme"),
        field_name="themes",  # what the value names, for the schema (the method reads the facet rows)
    )
    aid_form = django_filters.MultipleChoiceFilter(
        choices=AidForm.choices, method="filter_aid_form", label=_("Form of aid"),
    )
    amount = IntegerFilter(
        method="filter_amount", min_value=0, max_value=10**13, label=_("Amount I need, at least (EUR)"),
    )
    amount_max = IntegerFilter(
        method="filter_amount_max", min_value=0, max_value=10**13, label=_("Amount I need, at most (EUR)"),
    )
    trl = IntegerFilter(method="filter_trl", min_value=1, max_value=9, label=_("My TRL"))
    closes_after = django_filters.DateFilter(method="filter_closes_after", label=_("Closes after"))
    closes_before = django_filters.DateFilter(method="filter_closes_before", label=_("Closes before"))
    opens_after = django_filters.DateFilter(method="filter_opens_after", label=_("Opens after"))
    opens_before = django_filters.DateFilter(method="filter_opens_before", label=_("Opens before"))
    closing_within = IntegerFilter(
        method="filter_closing_within", min_value=0, max_value=MAX_DAYS, label=_("Closes within (days)"),
    )
    consortium = django_filters.ChoiceFilter(
        choices=[("true", _("Yes")), ("false", _("No"))], method="filter_consortium",
        label=_("Consortium required"),
    )
    foreign = django_filters.ChoiceFilter(
        choices=[
            (FOREIGN_EXCLUDED, _("Schemes in France only")),
            (FOREIGN_INCLUDED, _("Also foreign schemes (references)")),
            (FOREIGN_ONLY, _("Only foreign schemes (references)")),
        ],
        method="filter_foreign", label=_("Foreign schemes"), empty_label=None,
        help_text=_("Schemes of other countries are kept as references; they are left out unless you choose."),
    )
    updated_since = UtcIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gt", label=_("Changed after (ISO 8601)"),
    )
    ordering = CallOrderingFilter()

    class Meta:
        model = Call
        fields = []

    def __init__(self, data=None, queryset=None, **kwargs):
        """`queryset` must carry the listing annotations (`Call.objects.for_listing()`)."""
        if data is not None:
            data = without_empty_values(data)
        if data is not None and not data.get("updated_since"):
            # With no status chosen, an applicant sees what they can still apply to, in France;
            # a partner syncing with `updated_since` sees every change.
            data = data.copy()
            if not data.get("status"):
                if hasattr(data, "setlist"):
                    data.setlist("status", DEFAULT_STATUSES)
                else:
                    data["status"] = DEFAULT_STATUSES
            if not data.get("foreign"):
                data["foreign"] = DEFAULT_FOREIGN
        if queryset is None:
            queryset = Call.objects.listed()
        super().__init__(data, queryset=queryset, **kwargs)
        self.overlong = self._overlong_values(self.data) if self.is_bound else {}

    def _overlong_values(self, data) -> dict[str, str]:
        """Filters given a value over MAX_VALUE_LENGTH characters or over MAX_VALUES values."""
        errors = {}
        for name in self.filters:
            values = data.getlist(name) if hasattr(data, "getlist") else data.get(name)
            values = values if isinstance(values, list | tuple) else [values]
            values = [value for value in values if value is not None]
            if isinstance(self.filters[name], django_filters.filters.BaseCSVFilter):  # `ordering=a,b`
                values = [part for value in values for part in str(value).split(",")]
            if len(values) > MAX_VALUES:
                errors[name] = _("At most %(n)d values.") % {"n": MAX_VALUES}
            elif any(len(str(value)) > MAX_VALUE_LENGTH for value in values):
                errors[name] = _("At most %(n)d characters.") % {"n": MAX_VALUE_LENGTH}
        return errors

    @cached_property
    def registry_version(self) -> int:
        """The registry version this search reads (one query, whatever asks for it)."""
        return read_model.current_version()

    def use_listed_reference_choices(self):
        """Let the form list the reference filters' choices from `reference_choices` (once per
        registry version and language) rather than from the database on every page that shows
        them; their validation still reads the database."""
        form = self.form
        for name in REFERENCE_FILTERS:
            if name in form.fields:
                # Past the fields' choices setters, which would wrap the list in a model iterator
                # again (one query per render).
                field = form.fields[name]
                field._choices = field.widget.choices = list(
                    reference_choices(name, self.registry_version, get_language()))

    @property
    def form(self):
        """The filters' form; an over-long value is an error on its filter (see `filter_queryset`)."""
        form = super().form
        if self.overlong and not getattr(form, "overlong_reported", False):
            form.overlong_reported = True
            for name, message in self.overlong.items():
                if name in form.fields:
                    form.errors.setdefault(name, form.error_class()).clear()
                    form.add_error(name, message)
        return form

    def filter_queryset(self, queryset):
        """An over-long value makes the search match nothing: leaving that filter out would give
        more than was asked (a whole registry in an export)."""
        if self.overlong:
            return queryset.none()
        return super().filter_queryset(queryset)

    def queryset_without(self, excluded: str | None):
        """The calls the other active filters give: what a facet's choices are counted on (every
        active filter's calls with `excluded` None)."""
        if self.overlong:
            return self.queryset.none()
        queryset = self.queryset.all()
        for name, value in self.form.cleaned_data.items():
            if name not in (excluded, "ordering"):
                queryset = self.filters[name].filter(queryset, value)
        return queryset.order_by()

    def facet_counts(self) -> dict[str, dict[str, int]]:
        """For each facet, how many calls each of its values would give with the other filters.

        One query per facet, whatever the number of values, and cached (Redis in production):
        the cache key holds the search and the registry's version, so any saved call, and the
        turn of the day (statuses change at midnight), gives fresh counts. Call `is_valid()` first.
        """
        if self.overlong:  # a refused search counts nothing, and leaves nothing in the cache
            return {facet: {} for facet in FACETS}
        if self._facet_counts is None:  # read once per search, however many ask
            self._facet_counts = cache.get_or_set(
                self._facet_cache_key(), self._compute_facet_counts, FACET_CACHE_SECONDS)
        return self._facet_counts

    _facet_counts = None

    def active_filters(self) -> set[str]:
        """The filters with a valid value in this search (ordering aside)."""
        # Read on the query (its empty values are dropped): an unchosen filter's cleaned value
        # may be an empty queryset, which only a query would tell apart.
        return {name for name in self.form.cleaned_data
                if name != "ordering" and self.form.data.get(name) not in (None, "")}

    def result_count(self) -> int:
        """How many calls the search gives, read from its facet counts (cached with them): the
        status facet counts, by status, the calls every other filter keeps, so the search's calls
        are the sum over the statuses it keeps. No COUNT query on a page whose facets are cached."""
        if self.overlong:
            return 0
        by_status = self.facet_counts()["status"]
        chosen = set(self.form.cleaned_data.get("status") or Status.values)  # none valid: every status
        return sum(by_status.get(status, 0) for status in chosen)

    def _compute_facet_counts(self):
        return count_facets(self.queryset_without, active=self.active_filters())

    def _facet_cache_key(self):
        data = self.form.data
        search = sorted(
            (name, sorted(data.getlist(name)) if hasattr(data, "getlist") else data.get(name))
            for name in self.filters if name != "ordering" and name in data
        )
        version = (self.registry_version, today(), str(self.queryset.query))
        return "facets:" + hashlib.sha256(repr((search, version)).encode()).hexdigest()

    def expected_next_editions(self, limit: int = 10) -> list:
        """The calls this search gives whatever their status, neither open nor upcoming, whose next
        edition is expected (`calls.reading.editions`: an estimate, never counted as upcoming), soonest
        expected first, each with its card and `expected_edition`: the search's own group of
        editions "attendues"."""
        if self.overlong:
            return []
        estimates = expected_editions()
        ids = list(
            self.queryset_without("status").filter(pk__in=list(estimates))
            .exclude(status_condition([Status.OPEN, Status.UPCOMING])).values_list("pk", flat=True)
        )
        ids = sorted(ids, key=lambda pk: (estimates[pk].month, pk))[:limit]
        calls = calls_with_cards(self.queryset, ids)
        for call in calls:
            call.expected_edition = estimates[call.pk]
        return calls

    def filter_text(self, queryset, name, value):
        return queryset.search(value)

    def filter_status(self, queryset, name, value):
        if not value or set(value) >= set(Status.values):
            return queryset  # every status chosen (the timeline): nothing to filter
        return queryset.filter(status_condition(value))

    def filter_funder(self, queryset, name, value):
        return queryset.with_facet_value("funder", [funder.slug for funder in value]) if value else queryset

    def filter_funder_kind(self, queryset, name, value):
        return queryset.with_facet_value("funder_kind", value) if value else queryset

    def filter_programme(self, queryset, name, value):
        """The programme's calls and those of the programmes under it (a call's facet rows name
        its programme and every parent)."""
        return queryset.with_facet_value("programme", [value.slug]) if value else queryset

    def filter_beneficiary(self, queryset, name, value):
        return queryset.for_beneficiaries(value) if value else queryset

    def filter_foreign(self, queryset, name, value):
        if value == FOREIGN_EXCLUDED:
            return queryset.for_applicants_in_france()
        if value == FOREIGN_ONLY:
            return queryset.foreign_references()
        return queryset

    def filter_region(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.open_to_region(value)

    def filter_theme(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.with_facet_value("theme", [theme.slug for theme in value])

    def filter_aid_form(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.with_facet_value("aid_form", value)

    def filter_amount(self, queryset, name, value):
        if value is None:
            return queryset
        # "The highest ceiling is at least `value`, or no ceiling is stated."
        return queryset.filter(Q(index__max_ceiling_eur__gte=value) | Q(index__max_ceiling_eur__isnull=True))

    def filter_amount_max(self, queryset, name, value):
        if value is None:
            return queryset
        # "The floor per project is at most `value`, or no floor is stated."
        return queryset.filter(Q(floor_eur__lte=value) | Q(floor_eur__isnull=True))

    def filter_trl(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(
            (Q(trl_min__isnull=True) | Q(trl_min__lte=value)) & (Q(trl_max__isnull=True) | Q(trl_max__gte=value))
        )

    def _range(self, name, value, other):
        """(first day, last day) of a date range whose bounds are two filters: `name` given
        `value`, `other` read from the search. The pair is applied once, by the lower bound's
        filter when it is given."""
        chosen = getattr(self.form, "cleaned_data", {})
        if name.endswith("_after"):
            return value, chosen.get(other)
        if chosen.get(other):
            return None  # applied with the lower bound
        return None, value

    def filter_closes_after(self, queryset, name, value):
        return queryset.with_deadline_between(*self._range(name, value, "closes_before")) if value else queryset

    def filter_closes_before(self, queryset, name, value):
        if not value or (bounds := self._range(name, value, "closes_after")) is None:
            return queryset
        return queryset.with_deadline_between(*bounds)

    def filter_opens_after(self, queryset, name, value):
        return queryset.with_opening_between(*self._range(name, value, "opens_before")) if value else queryset

    def filter_opens_before(self, queryset, name, value):
        if not value or (bounds := self._range(name, value, "opens_after")) is None:
            return queryset
        return queryset.with_opening_between(*bounds)

    def filter_closing_within(self, queryset, name, value):
        if value is None:
            return queryset
        # "The next deadline falls within `value` days": a round's, else the call's own.
        return queryset.next_deadline_within(int(value))

    def filter_consortium(self, queryset, name, value):
        if not value:
            return queryset
        if value == "true":
            return queryset.filter(consortium_required=True)
        return queryset.filter(Q(consortium_required=False) | Q(consortium_required__isnull=True))


# Facets counted on the read model's facet rows: the same rows the filters above read.
LINKED_FACETS = ("funder", "funder_kind", "theme", "aid_form", "beneficiary", "region")
# Calls counted under every value of a facet, as its filter keeps them (see `for_beneficiaries`,
# `open_to_region`): a call naming no beneficiary may suit each; one open to every region suits each.
EVERY_VALUE = {"beneficiary": ("index__names_no_beneficiary", Beneficiary.values), "region": (
    "index__open_to_every_region", list(REGIONS))}
ALL_VALUES = "*"
FACETS = (*LINKED_FACETS, "call_type", "status")
# PostgreSQL: the name the calls every active filter keeps go by in the statement counting facets.
SHARED_CALLS = "facet_shared_calls"


def count_facets(calls_without, active=FACETS) -> dict[str, dict[str, int]]:
    """For each facet, the number of calls each value gives, counted on `calls_without(facet)`
    (the calls every other active filter keeps), in one SQL statement (a UNION ALL of grouped
    counts). Facets whose own filter is not in `active` are counted on the same calls (every
    active filter's), so they share one grouped count.

    On PostgreSQL, those calls (`calls_without(None)`) are read once for every count made on them:
    the statement starts with them as a materialised table (`SHARED_CALLS`), which the grouped
    counts of the shared facets, of the calls suiting every value, and of the types read."""
    every_filter = calls_without(None).values("pk")
    shared_sql = None  # PostgreSQL: (SQL, params) of the shared calls, when they may be found
    if connections[every_filter.db].vendor == "postgresql":
        with contextlib.suppress(EmptyResultSet):  # a search that finds nothing by construction
            shared_sql = every_filter.query.get_compiler(using=every_filter.db).as_sql()
    shared_read = []

    def ids(excluded):
        if excluded is None and shared_sql is not None:
            shared_read.append(True)
            return RawSQL(f"SELECT id FROM {SHARED_CALLS}", ())
        return calls_without(excluded).values("pk")

    parts = []
    own = [facet for facet in LINKED_FACETS if facet in active]
    shared = [facet for facet in LINKED_FACETS if facet not in active]
    groups = [(ids(facet), [facet]) for facet in own]
    if shared:
        groups.append((ids(None), shared))
    for calls, facets in groups:
        parts.append(
            CallFacet.objects.filter(facet__in=facets, call_index_id__in=calls).order_by()
            .values("facet", "value").annotate(n=Count("call_index_id"))
        )
        for facet in facets:
            if facet in EVERY_VALUE:
                flag, _values = EVERY_VALUE[facet]
                parts.append(
                    Call.objects.filter(pk__in=calls, **{flag: True}).order_by()
                    .values(facet=Value(facet), value=Value(ALL_VALUES)).annotate(n=Count("pk"))
                )
    parts.append(
        Call.objects.filter(pk__in=ids("call_type" if "call_type" in active else None))
        .order_by().values(facet=Value("call_type"), value=F("call_type")).annotate(n=Count("pk"))
    )
    parts.append(
        Call.objects.filter(pk__in=ids("status" if "status" in active else None))
        .order_by().values(facet=Value("status"), value=status_expression()).annotate(n=Count("pk"))
    )
    rows = parts[0].union(*parts[1:], all=True).values_list("facet", "value", "n")
    if shared_read:
        rows = _rows_after(rows, SHARED_CALLS, shared_sql)
    counts = {facet: {} for facet in FACETS}
    for facet, value, n in rows:
        if value == ALL_VALUES:
            for every in EVERY_VALUE[facet][1]:
                counts[facet][every] = counts[facet].get(every, 0) + n
        else:
            counts[facet][value] = counts[facet].get(value, 0) + n
    return counts


def _rows_after(queryset, name, ids_sql) -> list[tuple]:
    """The rows of `queryset`, its statement preceded by the table `name` (one column, `id`) of the
    ids the query `ids_sql` (SQL, params) reads, materialised: read once however many parts of the
    statement read it."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"WITH {name} (id) AS MATERIALIZED ({ids_sql[0]}) {sql}", (*ids_sql[1], *params))
        return cursor.fetchall()

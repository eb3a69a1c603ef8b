"""Funders, programmes, themes and documents: written through `services.save_reference`."""
from django.contrib import admin
from django.db.models import Case, Value, When
from simple_history.admin import SimpleHistoryAdmin

from calls import services
from calls.curation.admin.call_forms import ProgrammeSourceInline, source_form  # noqa: F401
from calls.curation.admin.mixins import CuratorNotesMixin, NoDeleteMixin, NoRevertMixin  # noqa: F401
from calls.importing import base as importers
from calls.models import (
    Document,
    Funder,
    Programme,
    Theme,
)


class ReferenceAdminMixin(CuratorNotesMixin, NoRevertMixin, NoDeleteMixin):
    """Funders, programmes, themes and documents are embedded in calls: saving one goes through
    the services, which refresh the read model of the calls that show it."""

    def save_model(self, request, obj, form, change):
        services.save_reference(instance=obj, actor=request.user, reason="admin")


@admin.register(Funder)
class FunderAdmin(ReferenceAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "name_en", "acronym", "kind", "region", "country"]
    list_filter = ["kind", "region", "country"]
    search_fields = ["name", "name_en", "acronym", "aliases", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_search_results(self, request, queryset, search_term):
        """The search, and the funder autocomplete of a call's funders: the funders known by the
        term itself (`Funder.known_names`: name, acronym or an alias; case and accents aside) come
        first, then the others the search finds, by name. "Région Occitanie" gives the Région
        before AD'OCC, whose name holds those words."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = importers.fold(search_term)
        if not term:
            return results, may_have_duplicates
        known = [funder.pk for funder in queryset.only("pk", "name", "acronym", "aliases")
                 if term in {importers.fold(name) for name in funder.known_names()}]
        if known:
            results = results | queryset.filter(pk__in=known)
        ranked = results.annotate(known_by_term=Case(When(pk__in=known, then=Value(0)), default=Value(1)))
        return ranked.order_by("known_by_term", "name", "pk"), may_have_duplicates


@admin.register(Programme)
class ProgrammeAdmin(ReferenceAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "name_en", "parent", "budget_eur", "starts_on", "ends_on"]
    list_filter = ["funders"]
    search_fields = ["name", "name_en", "slug"]
    autocomplete_fields = ["parent", "funders"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ProgrammeSourceInline]


@admin.register(Theme)
class ThemeAdmin(ReferenceAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "name_en", "slug"]
    search_fields = ["name", "name_en", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Document)
class DocumentAdmin(ReferenceAdminMixin, SimpleHistoryAdmin):
    list_display = ["title", "key", "url"]
    search_fields = ["title", "key"]

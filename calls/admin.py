"""The curators' admin: calls with their rounds, ceilings, sources and laureates; history; CSV."""
from django.contrib import admin, messages
from django.db.models import Prefetch
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .choices import PublicationState, Status
from .concurrency import OptimisticLockForm
from .models import (
    Call,
    CallFunder,
    Ceiling,
    Document,
    Funder,
    Laureate,
    Programme,
    Round,
    Source,
    Theme,
)
from .querysets import today
from .resources import CallResource

NOT_VERIFIED_DAYS = 180


class NoDeleteMixin:
    """Curators archive; nothing in the admin destroys an entry."""

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Status.choices

    def queryset(self, request, queryset):
        if self.value() in Status.values:
            return queryset.filter(current_status=self.value())
        return queryset


class SubmittedByPartnerFilter(admin.SimpleListFilter):
    title = _("origin")
    parameter_name = "origin"

    def lookups(self, request, model_admin):
        return [("partner", _("Submitted by a partner")), ("curators", _("Entered by curators"))]

    def queryset(self, request, queryset):
        if self.value() == "partner":
            return queryset.filter(submitted_by__isnull=False)
        if self.value() == "curators":
            return queryset.filter(submitted_by__isnull=True)
        return queryset


class NotVerifiedFilter(admin.SimpleListFilter):
    title = _("verification")
    parameter_name = "verification"

    def lookups(self, request, model_admin):
        return [("stale", _("Not verified for %(days)d days") % {"days": NOT_VERIFIED_DAYS})]

    def queryset(self, request, queryset):
        if self.value() == "stale":
            return queryset.not_verified_since(NOT_VERIFIED_DAYS)
        return queryset


class CallFunderInline(admin.TabularInline):
    model = CallFunder
    extra = 1
    autocomplete_fields = ["funder"]


class RoundInline(admin.TabularInline):
    model = Round
    extra = 0


class CeilingInline(admin.TabularInline):
    model = Ceiling
    extra = 0


class SourceInline(admin.StackedInline):
    model = Source
    fk_name = "call"
    extra = 0
    fields = ["document", "title", "url", "locator", "accessed_on", "covers"]


class ProgrammeSourceInline(SourceInline):
    fk_name = "programme"


class LaureateInline(admin.TabularInline):
    model = Laureate
    extra = 0


@admin.register(Call)
class CallAdmin(NoDeleteMixin, ImportExportMixin, SimpleHistoryAdmin):
    form = OptimisticLockForm
    resource_classes = [CallResource]
    list_display = [
        "title", "status_badge", "next_deadline_display", "funder_names", "publication_state", "last_verified_on",
        "submitted_by",
    ]
    list_filter = [
        StatusFilter, "publication_state", "funders", "programme", "call_type", "beneficiaries", "themes",
        "regions", NotVerifiedFilter, SubmittedByPartnerFilter,
    ]
    search_fields = ["title", "summary", "funders__name", "funders__acronym"]
    autocomplete_fields = ["programme", "themes", "previous_edition"]
    filter_horizontal = ["aid_forms", "beneficiaries", "regions"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["submitted_by", "published_at", "created_at", "updated_at"]
    inlines = [CallFunderInline, RoundInline, CeilingInline, SourceInline, LaureateInline]
    actions = ["publish", "archive", "mark_verified_today", "new_edition"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "call_type", "programme", "summary", "description"]}),
        (_("Dates"), {"fields": [
            ("opens_on", "opens_on_precision"), ("closes_on", "closes_on_precision"), "is_rolling",
        ]}),
        (_("Money"), {"fields": [
            "total_budget_eur", "floor_eur", ("funding_rate_min_pct", "funding_rate_max_pct"), "aid_forms",
            ("duration_min_months", "duration_max_months"),
        ]}),
        (_("Eligibility"), {"fields": [
            "beneficiaries", "scope", "regions", "consortium_required", ("trl_min", "trl_max"), "themes",
            "eligibility", "eligible_expenses", "apply_url",
        ]}),
        (_("Curation"), {"fields": [
            "previous_edition", "publication_state", "last_verified_on", "curator_note", "submitted_by",
            "published_at", "created_at", "updated_at", "seen_updated_at",
        ]}),
    ]

    def get_queryset(self, request):
        return (
            super().get_queryset(request)
            .select_related("submitted_by")
            .with_status()
            .prefetch_related(Prefetch("funders", queryset=Funder.objects.only("name", "acronym")))
        )

    @admin.display(description=_("status"), ordering="current_status")
    def status_badge(self, obj):
        return obj.get_status_display()

    @admin.display(description=_("next deadline"), ordering="next_deadline")
    def next_deadline_display(self, obj):
        return obj.upcoming_deadline

    @admin.display(description=_("funders"))
    def funder_names(self, obj):
        return ", ".join(f.acronym or f.name for f in obj.funders.all())

    def has_import_permission(self, request):
        """Importing creates and changes calls: it needs both permissions."""
        return super().has_import_permission(request) and request.user.has_perm("calls.add_call")

    def get_resource_kwargs(self, request, *args, **kwargs):
        return {**super().get_resource_kwargs(request, *args, **kwargs), "user": request.user}

    def save_model(self, request, obj, form, change):
        services.save_call(call=obj, actor=request.user, reason="admin")

    def _set_state(self, request, queryset, state, verb):
        changed = sum(
            services.set_publication_state(call=call, state=state, actor=request.user, reason="admin")
            for call in queryset
        )
        self.message_user(request, ngettext(
            "%(count)d call %(verb)s.", "%(count)d calls %(verb)s.", changed
        ) % {"count": changed, "verb": verb}, messages.SUCCESS)

    @admin.action(description=_("Publish the selected calls"), permissions=["change"])
    def publish(self, request, queryset):
        self._set_state(request, queryset, PublicationState.PUBLISHED, _("published"))

    @admin.action(description=_("Archive the selected calls"), permissions=["change"])
    def archive(self, request, queryset):
        self._set_state(request, queryset, PublicationState.ARCHIVED, _("archived"))

    @admin.action(description=_("Mark the selected calls verified today"), permissions=["change"])
    def mark_verified_today(self, request, queryset):
        for call in queryset:
            services.mark_verified(call=call, on=today(), actor=request.user)
        self.message_user(request, _("Marked verified today."), messages.SUCCESS)

    @admin.action(description=_("Create a new edition (draft) of the selected call"), permissions=["add"])
    def new_edition(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one call to create its new edition."), messages.ERROR)
            return None
        try:
            edition = services.create_new_edition(call=queryset.get())
        except ValueError as error:
            self.message_user(request, str(error), messages.ERROR)
            return None
        self.message_user(request, _("New edition created as a draft: fill in its dates."), messages.SUCCESS)
        return redirect("admin:calls_call_change", edition.pk)


@admin.register(Funder)
class FunderAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["name", "acronym", "kind", "region", "country"]
    list_filter = ["kind", "region", "country"]
    search_fields = ["name", "acronym", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Programme)
class ProgrammeAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["name", "parent", "budget_eur", "starts_on", "ends_on"]
    list_filter = ["funders"]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["parent", "funders"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ProgrammeSourceInline]


@admin.register(Theme)
class ThemeAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["name", "name_en", "slug"]
    search_fields = ["name", "name_en", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Document)
class DocumentAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["title", "key", "url"]
    search_fields = ["title", "key"]


from .alerts import admin as alerts_admin  # noqa: E402,F401  (email alerts: their own module)

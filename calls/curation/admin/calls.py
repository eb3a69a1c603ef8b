"""The calls' admin: the list, the change form with its inlines, history, CSV and actions; every
save goes through `services.save_call`."""
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

from calls import rules, services
from calls.choices import PublicationState
from calls.curation.admin.call_forms import (
    CODE_FIELDS,
    CallAdminForm,
    CallFunderInline,
    CallRowsFormSet,
    CeilingInline,
    LaureateInline,
    ProvenanceInline,
    RoundInline,
    SourceInline,
)
from calls.curation.admin.mixins import (
    CuratorNotesMixin,
    NoDeleteMixin,
    NoRevertMixin,
    NotVerifiedFilter,
    StatusFilter,
    SubmittedByPartnerFilter,
)
from calls.curation.resources import CallResource, CuratorExportForm, PendingImportGone
from calls.history import call_history_rows
from calls.importing import base as importers
from calls.models import (
    Call,
    Funder,
)
from calls.querysets import today
from calls.rules import CallRows


@admin.register(Call)
class CallAdmin(CuratorNotesMixin, NoRevertMixin, NoDeleteMixin, ImportExportMixin, SimpleHistoryAdmin):
    form = CallAdminForm
    object_history_template = "admin/calls/call/object_history.html"
    resource_classes = [CallResource]
    export_form_class = CuratorExportForm

    def process_import(self, request, **kwargs):
        """The import's confirmation; one whose pending file is gone (confirmed already, expired)
        sends the curator back to the import page with a message."""
        try:
            return super().process_import(request, **kwargs)
        except PendingImportGone:
            self.message_user(request, _(
                "This import is no longer pending (already confirmed, or kept too long): nothing was imported. "
                "Choose the file again."
            ), messages.ERROR)
            return redirect(reverse("admin:calls_call_import"))
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
    # Sources last: their inline checks the whole call (figures covered, copies confirmed).
    inlines = [CallFunderInline, RoundInline, CeilingInline, LaureateInline, SourceInline, ProvenanceInline]
    actions = [
        "publish", "archive", "mark_verified_today", "confirm_copied_figures", "new_edition", "keep_curators_values",
        "not_duplicates",
    ]
    def view_on_site(self, obj):
        """The public page, or its preview while the call is not published."""
        if obj.publication_state == PublicationState.PUBLISHED:
            return obj.get_absolute_url()
        return reverse("call-preview", args=[obj.slug])

    # What a curator fills in for most calls comes first; what is rarely used is folded away.
    fieldsets = [
        (None, {"fields": ["title", "slug", "call_type", "programme", "summary"]}),
        (_("Dates"), {
            "fields": [
                ("opens_on", "opens_on_precision"), ("closes_on", "closes_on_precision"), "is_rolling",
                ("recurrence", "editions_per_year"), "edition_year", "discontinued",
            ],
            "description": _("A call's window covers its rounds: dates of rounds outside it widen it."),
        }),
        (_("Money"), {"fields": [
            ("total_budget_eur", "floor_eur"), ("funding_rate_min_pct", "funding_rate_max_pct"), "aid_forms",
        ]}),
        (_("Eligibility"), {"fields": [
            "beneficiaries", ("scope", "consortium_required"), "regions", "themes", "eligibility",
            ("apply_url", "apply_url_kind"),
        ]}),
        (_("In English"), {"classes": ["collapse"], "fields": ["title_en", "summary_en"]}),
        (_("Publication"), {"fields": [
            ("publication_state", "last_verified_on"), "unsourced_acknowledged", "curator_note", "seen_updated_at",
        ]}),
        (_("More details"), {"classes": ["collapse"], "fields": [
            "description", "eligible_expenses", ("duration_min_months", "duration_max_months"),
            ("trl_min", "trl_max"), "previous_edition",
        ]}),
        (_("Record"), {"classes": ["collapse"], "fields": [
            "submitted_by", "published_at", "created_at", "updated_at",
        ]}),
    ]

    class Media:
        css = {"all": ["calls/admin.css"]}

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
        """Saved in `save_related`, with the rows the inlines are about to write (see there)."""

    def save_related(self, request, form, formsets, change):
        """Save the call, its rows (its inlines') and its vocabularies (the form's) through the
        services, as one write.

        The inlines' formsets have already checked these rows (`CallRowsFormSet`); the services
        check them again and widen the call's window to its rounds, which the curator is told.
        """
        call = form.instance
        rows = getattr(call, "_pending_rows", None) or CallRows.of(call)
        rows.codes = {name: list(form.cleaned_data[name]) for name in CODE_FIELDS if name in form.cleaned_data}
        widened = getattr(call, "_widened", None) or rules.derive_window(call, rows.rounds)
        services.save_call(
            call=call, actor=request.user, reason="admin", rows=rows,
            unsourced_acknowledged=getattr(call, "_unsourced_acknowledged", False),
        )
        for formset in formsets:
            if isinstance(formset, CallRowsFormSet):
                formset.save(commit=False)  # written above: this only tells the admin's log what changed
            else:
                self.save_formset(request, form, formset, change=change)
        if widened:
            self.message_user(request, _(
                "The call's dates were widened to cover its rounds: %(opens)s – %(closes)s."
            ) % {"opens": call.opens_on_display or "…", "closes": call.closes_on_display or "…"}, messages.INFO)

    def history_view(self, request, object_id, extra_context=None):
        """The call's history with its rows' and vocabularies' changes, readable (`calls.history`)."""
        call = self.get_object(request, unquote(object_id))
        hidden = self._hidden_fields(request)
        extra = {"history_rows": call_history_rows(call, hidden=hidden) if call is not None else []}
        return super().history_view(request, object_id, extra_context={**(extra_context or {}), **extra})

    def _set_state(self, request, queryset, state, verb):
        changed = 0
        for call in queryset:
            try:
                changed += services.set_publication_state(call=call, state=state, actor=request.user, reason="admin")
            except ValidationError as error:
                for message in error.messages:
                    self.message_user(request, f"{call}: {message}", messages.ERROR)
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
            try:
                services.mark_verified(call=call, on=today(), actor=request.user)
            except ValidationError as error:
                for message in error.messages:
                    self.message_user(request, f"{call}: {message}", messages.ERROR)
        self.message_user(request, _("Marked verified today."), messages.SUCCESS)

    @admin.action(description=_("Confirm the copied figures of the selected calls"), permissions=["change"])
    def confirm_copied_figures(self, request, queryset):
        count = sum(services.confirm_copied_figures(call=call, actor=request.user) for call in queryset)
        self.message_user(request, ngettext(
            "%(count)d copied figure confirmed.", "%(count)d copied figures confirmed.", count
        ) % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Keep the curators' values: dismiss the feeds' waiting values"),
                  permissions=["change"])
    def keep_curators_values(self, request, queryset):
        dropped = sum(importers.dismiss_pending(call=call) for call in queryset)
        self.message_user(request, ngettext(
            "%(count)d waiting value dismissed.", "%(count)d waiting values dismissed.", dropped
        ) % {"count": dropped}, messages.SUCCESS)

    @admin.action(description=_("Not duplicates: dismiss the likely-duplicate flags of submissions and proposals"),
                  permissions=["change"])
    def not_duplicates(self, request, queryset):
        dropped = sum(services.dismiss_duplicate_flags(call=call) for call in queryset)
        self.message_user(request, ngettext(
            "%(count)d likely-duplicate flag dismissed.", "%(count)d likely-duplicate flags dismissed.", dropped
        ) % {"count": dropped}, messages.SUCCESS)

    @admin.action(description=_("Create a new edition (draft) of the selected call"), permissions=["add"])
    def new_edition(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one call to create its new edition."), messages.ERROR)
            return None
        try:
            edition = services.create_new_edition(call=queryset.get(), actor=request.user)
        except ValidationError as error:
            for message in error.messages:
                self.message_user(request, message, messages.ERROR)
            return None
        except ValueError as error:
            self.message_user(request, str(error), messages.ERROR)
            return None
        self.message_user(request, _(
            "New edition created as a draft: fill in its dates, and confirm or replace each copied "
            "ceiling and source (marked “to confirm for this edition”) before publishing it."
        ), messages.SUCCESS)
        return redirect("admin:calls_call_change", edition.pk)

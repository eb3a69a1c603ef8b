"""The curators' admin: calls with their rounds, ceilings, sources and laureates; history; CSV."""
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

from . import rules, services, source_checks
from .choices import PublicationState, Status
from .concurrency import OptimisticLockForm
from .history import call_history_rows
from .importers import base as importers
from .models import (
    Call,
    CallFunder,
    CallToReverify,
    Ceiling,
    Document,
    Funder,
    Laureate,
    Programme,
    Provenance,
    PublicReport,
    Round,
    Source,
    Theme,
)
from .querysets import today
from .resources import CallResource, PendingImportGone
from .rules import CallRows

NOT_VERIFIED_DAYS = 180

admin.site.site_header = _("Bioproduction funding-call registry")
admin.site.site_title = _("Funding-call registry")
admin.site.index_title = _("Curation")
admin.site.index_template = "admin/registry_index.html"  # what waits for curators first (registry_admin tags)


class NoRevertMixin:
    """simple-history's revert (its form at `…/history/<version>/`) is not offered: it would save
    the old version past the services (no validation of the rows, no read model refreshed). The
    history is shown, every version kept; to go back, a curator changes the fields in the form.
    The revert's address sends back to the history with a message, whatever the method."""

    object_history_list_template = "admin/calls/history_list_no_revert.html"

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        self.message_user(request, _(
            "Going back to an old version is not offered: change the fields in the form (the history keeps "
            "every version)."
        ), messages.WARNING)
        opts = self.model._meta
        return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[object_id]))


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
        return [
            ("partner", _("Submitted by a partner")), ("imported", _("Imported from a feed")),
            ("review", _("To review: a feed's value waiting, gone from a feed, flagged")),
            ("curators", _("Entered by curators")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "partner":
            return importers.submitted_by_a_partner(queryset)
        if self.value() == "imported":
            return importers.imported_from_a_feed(queryset)
        if self.value() == "review":
            return importers.to_review(queryset)
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


def pending_rows(formset) -> list:
    """The rows a formset will leave once saved: kept initial rows and filled extra ones, unsaved."""
    deleted = set(map(id, formset.deleted_forms)) if formset.can_delete else set()
    return [
        form.instance for form in formset.forms
        if id(form) not in deleted and (form.instance.pk or form.has_changed())
        and not form.errors
    ]


class CallRowsFormSet(BaseInlineFormSet):
    """Rows of a call being edited: each formset leaves its pending rows on the call (the form's
    instance, shared by every inline), so that the last one, the sources, checks the whole call
    against `services.publication_errors` before anything is saved."""

    checks_the_call = False

    def clean(self):
        super().clean()
        if not hasattr(self.instance, "_pending_rows"):
            self.instance._pending_rows = CallRows.of(self.instance)
        setattr(self.instance._pending_rows, self.rows_name, pending_rows(self))
        if self.checks_the_call:
            rows = self.instance._pending_rows
            self.instance._widened = rules.derive_window(self.instance, rows.rounds)
            errors = services.publication_errors(
                call=self.instance, rows=rows,
                unsourced_acknowledged=getattr(self.instance, "_unsourced_acknowledged", False),
            )
            if errors:
                raise ValidationError(errors)


def rows_formset(name, *, checks_the_call=False):
    return type(f"{name.capitalize()}FormSet", (CallRowsFormSet,), {
        "rows_name": name, "checks_the_call": checks_the_call,
    })


class CallFunderInline(admin.TabularInline):
    model = CallFunder
    extra = 1
    autocomplete_fields = ["funder"]


class RoundInline(admin.TabularInline):
    model = Round
    formset = rows_formset("rounds")
    extra = 1


class CeilingInline(admin.TabularInline):
    model = Ceiling
    formset = rows_formset("ceilings")
    extra = 1
    fields = ["amount_eur", "condition", "to_confirm"]


class SourceInline(admin.StackedInline):
    model = Source
    fk_name = "call"
    formset = rows_formset("sources", checks_the_call=True)
    extra = 1
    fields = ["title", "url", "covers", ("document", "locator", "accessed_on"), "to_confirm"]


class ProgrammeSourceInline(admin.StackedInline):
    model = Source
    fk_name = "programme"
    extra = 0
    fields = ["document", "title", "url", "locator", "accessed_on", "covers"]


class LaureateInline(admin.TabularInline):
    model = Laureate
    formset = rows_formset("laureates")
    extra = 0
    classes = ["collapse"]


class CallAdminForm(OptimisticLockForm):
    unsourced_acknowledged = forms.BooleanField(
        label=_("Publish figures no source covers"), required=False,
        help_text=_("Tick only after checking them: the registry shows every published figure with its source."),
    )

    class Meta:
        model = Call
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        self.instance._unsourced_acknowledged = bool(cleaned.get("unsourced_acknowledged"))
        return cleaned


class ProvenanceInline(GenericTabularInline):
    """Where the call came from (bundled data, a feed), what a feed says that waits for a curator, what to review."""

    model = Provenance
    extra = 0
    max_num = 0
    can_delete = False
    fields = readonly_fields = ["origin", "external_id", "feed_values_waiting", "missing_since", "review_flags",
                                "written_at"]
    verbose_name_plural = _("provenance: what programs wrote, and what waits for a curator")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("calls.view_call")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("the origin's new values, kept out because a curator changed the field"))
    def feed_values_waiting(self, obj):
        return format_html_join("", "<div><strong>{}</strong>: {}</div>", (
            (name, importers.shown(value)) for name, value in sorted(obj.pending.items())
        )) or "—"

    @admin.display(description=_("to review"))
    def review_flags(self, obj):
        return format_html_join("", "<div>{}</div>", ((importers.flag_text(flag),) for flag in obj.flags)) or "—"


@admin.register(Call)
class CallAdmin(NoRevertMixin, NoDeleteMixin, ImportExportMixin, SimpleHistoryAdmin):
    form = CallAdminForm
    object_history_template = "admin/calls/call/object_history.html"
    resource_classes = [CallResource]

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
        """Save the call through the services with the rows its inlines will have, then the rows.

        The inlines' formsets have already checked these rows (`CallRowsFormSet`); the services
        check them again and widen the call's window to its rounds, which the curator is told.
        """
        call = form.instance
        rows = getattr(call, "_pending_rows", None) or CallRows.of(call)
        widened = getattr(call, "_widened", None) or rules.derive_window(call, rows.rounds)
        services.save_call(
            call=call, actor=request.user, reason="admin", rows=rows,
            unsourced_acknowledged=getattr(call, "_unsourced_acknowledged", False),
        )
        super().save_related(request, form, formsets, change)
        services.rows_written(call=call)
        if widened:
            self.message_user(request, _(
                "The call's dates were widened to cover its rounds: %(opens)s – %(closes)s."
            ) % {"opens": call.opens_on_display or "…", "closes": call.closes_on_display or "…"}, messages.INFO)

    def history_view(self, request, object_id, extra_context=None):
        """The call's history with its rows' and vocabularies' changes, readable (`calls.history`)."""
        call = self.get_object(request, object_id)
        extra = {"history_rows": call_history_rows(call) if call is not None else []}
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
        except ValueError as error:
            self.message_user(request, str(error), messages.ERROR)
            return None
        self.message_user(request, _(
            "New edition created as a draft: fill in its dates, and confirm or replace each copied "
            "ceiling and source (marked “to confirm for this edition”) before publishing it."
        ), messages.SUCCESS)
        return redirect("admin:calls_call_change", edition.pk)


class ReferenceAdminMixin(NoRevertMixin, NoDeleteMixin):
    """Funders, programmes, themes and documents are embedded in calls: saving one goes through
    the services, which refresh the read model of the calls that show it."""

    def save_model(self, request, obj, form, change):
        services.save_reference(instance=obj, actor=request.user, reason="admin")


@admin.register(Funder)
class FunderAdmin(ReferenceAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "name_en", "acronym", "kind", "region", "country"]
    list_filter = ["kind", "region", "country"]
    search_fields = ["name", "name_en", "acronym", "slug"]
    prepopulated_fields = {"slug": ["name"]}


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


@admin.register(CallToReverify)
class CallToReverifyAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Published calls whose pages are gone, moved or changed since they were verified, calls not
    verified for six months, closed editions of a series with no next one (`calls.source_checks`).

    Each row links to the call (to check and correct it) and to the page at fault; the action marks
    the selected calls verified today (`services.mark_verified`: the curator and the day go into
    the call's history). The permissions are the calls' own.
    """

    list_display = ["entry", "why", "last_verified_on", "last_verified_by"]
    list_display_links = None
    actions = ["mark_verified_today"]
    search_fields = ["title"]
    ordering = ["last_verified_on", "title"]

    def _reasons(self, request):
        if not hasattr(request, "_to_reverify"):
            request._to_reverify = source_checks.to_reverify()
        return request._to_reverify

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=list(self._reasons(request)))

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("calls.view_call") or request.user.has_perm("calls.change_call")

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.has_perm("calls.change_call")

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("call"), ordering="title")
    def entry(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:calls_call_change", args=[obj.pk]), obj.title)

    @admin.display(description=_("why"))
    def why(self, obj):
        reasons = getattr(obj, "reverify_reasons", [])
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}{}</li>", (
            (reason.text, format_html(' — <a href="{}" rel="noopener noreferrer" target="_blank">{}</a>',
                                      reason.url, reason.url) if reason.url else "")
            for reason in reasons)))

    @admin.display(description=_("last verified by"))
    def last_verified_by(self, obj):
        record = obj.history.filter(history_change_reason="verified against its sources").select_related(
            "history_user").first()
        return record.history_user if record and record.history_user else "—"

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": _("Calls to re-verify"), **(extra_context or {})})

    def get_changelist_instance(self, request):
        """The page of calls listed, each with its reasons (computed once per request)."""
        changelist = super().get_changelist_instance(request)
        reasons = self._reasons(request)
        for call in changelist.result_list:  # evaluates the page once; the template reads the same objects
            call.reverify_reasons = reasons.get(call.pk, [])
        return changelist

    @admin.action(description=_("Mark the selected calls verified today"), permissions=["change"])
    def mark_verified_today(self, request, queryset):
        done = 0
        for call in Call.objects.filter(pk__in=queryset.values("pk")):
            try:
                services.mark_verified(call=call, on=today(), actor=request.user)
                done += 1
            except ValidationError as error:
                for message in error.messages:
                    self.message_user(request, f"{call}: {message}", messages.ERROR)
        self.message_user(request, ngettext(
            "%(count)d call marked verified today.", "%(count)d calls marked verified today.", done
        ) % {"count": done}, messages.SUCCESS)


class HandledFilter(admin.SimpleListFilter):
    title = _("handled")
    parameter_name = "handled"

    def lookups(self, request, model_admin):
        return [("no", _("To handle")), ("yes", _("Handled"))]

    def queryset(self, request, queryset):
        if self.value() in ("no", "yes"):
            return queryset.filter(handled_at__isnull=self.value() == "no")
        return queryset


@admin.register(PublicReport)
class PublicReportAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Visitors' reports of errors and proposed calls (`calls.public_reports`): read them, correct the
    call or review the draft, then mark them handled. The permissions are the calls' own."""

    list_display = ["created_at", "kind", "entry", "excerpt", "contact_email", "handled_at", "handled_by"]
    list_display_links = ["created_at"]
    list_filter = [HandledFilter, "kind"]
    search_fields = ["message", "contact_email", "call__title", "suggested_call__title"]
    readonly_fields = ["kind", "entry", "message", "contact_email", "created_at", "handled_at", "handled_by"]
    fields = readonly_fields
    actions = ["mark_handled"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("call", "suggested_call", "handled_by")

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": _("Visitors' reports"), **(extra_context or {})})

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("calls.view_call") or request.user.has_perm("calls.change_call")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("calls.change_call")

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("call"))
    def entry(self, obj):
        call = obj.call or obj.suggested_call
        if call is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:calls_call_change", args=[call.pk]), call.title)

    @admin.display(description=_("message"))
    def excerpt(self, obj):
        return obj.message if len(obj.message) <= 120 else obj.message[:119] + "…"

    @admin.action(description=_("Mark the selected reports handled"), permissions=["change"])
    def mark_handled(self, request, queryset):
        done = sum(services.handle_public_report(report=report, actor=request.user) for report in queryset)
        self.message_user(request, ngettext(
            "%(count)d report marked handled.", "%(count)d reports marked handled.", done
        ) % {"count": done}, messages.SUCCESS)


# -- Partner accounts ----------------------------------------------------------------------------

User = get_user_model()


class RegistryUserAdmin(UserAdmin):
    """Django's users admin, with an action making the chosen accounts partners (the `partners`
    group and an API token each), for staff who may change users and add tokens."""

    actions = ["make_partners"]

    @admin.action(description=_("Make them partners (the partners group and an API token each)"),
                  permissions=["make_partners"])
    def make_partners(self, request, queryset):
        lines = []
        for user in queryset.order_by("username"):
            token, created = services.make_partner(user=user)
            lines.append((user.get_username(), token.key, _("new token") if created else _("token kept")))
        self.message_user(request, format_html(
            "{} <ul>{}</ul>", _("Partners: send each its token, as the header Authorization: Token <key>."),
            format_html_join("", "<li>{}: <code>{}</code> ({})</li>", lines),
        ), messages.SUCCESS)

    def has_make_partners_permission(self, request):
        """Both permissions (an action's permissions are alternatives: one method asks for both)."""
        return self.has_change_permission(request) and request.user.has_perm("authtoken.add_tokenproxy")


admin.site.unregister(User)
admin.site.register(User, RegistryUserAdmin)


from .alerts import admin as alerts_admin  # noqa: E402,F401  (email alerts: their own module)

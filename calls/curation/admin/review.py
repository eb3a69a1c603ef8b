"""What waits for curators: calls to re-verify, visitors' reports, one's own daily digest."""
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from calls import services
from calls.admin_selection import CheckedSelectionMixin
from calls.curation import curator_digest
from calls.curation.admin.mixins import NOT_VERIFIED_DAYS, NoDeleteMixin  # noqa: F401
from calls.importing import source_checks
from calls.models import (
    Call,
    CallToReverify,
    CuratorDigest,
    PublicReport,
)
from calls.querysets import today


@admin.register(CallToReverify)
class CallToReverifyAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Published calls whose pages are gone, moved or changed since they were verified, calls not
    verified for six months, closed editions of a series with no next one (`calls.importing.source_checks`).

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
    """Visitors' reports of errors and proposed calls (`calls.site.public_reports`): read them, correct the
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


@admin.register(CuratorDigest)
class CuratorDigestAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    """*My daily digest*: each staff member sees and sets their own digest (`curator_digest`), nobody
    else's; the list opens their own setting. Nothing is deleted here: unticking stops the digest."""

    fields = ["subscribed", "language", "last_sent_at"]
    readonly_fields = ["last_sent_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(user=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (obj is None or obj.user_id == request.user.pk)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self.has_module_permission(request) and not CuratorDigest.objects.filter(user=request.user).exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        mine = CuratorDigest.objects.filter(user=request.user).first()
        if mine is None:
            return redirect("admin:calls_curatordigest_add")
        return redirect("admin:calls_curatordigest_change", mine.pk)

    def response_post_save_add(self, request, obj):
        return redirect("admin:calls_curatordigest_change", obj.pk)

    def response_post_save_change(self, request, obj):
        return redirect("admin:calls_curatordigest_change", obj.pk)

    def save_model(self, request, obj, form, change):
        curator_digest.set_curator_digest(digest=obj, user=request.user)

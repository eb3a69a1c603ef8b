"""Email alerts in the admin: what staff may see of subscribers, and a data-protection export.

Curators (the `curators` group may view alerts) see how alerts are used: kind, saved search,
language, rhythm, whether confirmed, when last sent; never the addresses. Only staff with
`alerts.view_subscriber_email` (superusers, or a data-protection officer given it) see the
addresses, find an address's alerts, export them for a data-protection request, and delete
them. Nobody adds or edits a subscription here: only its owner, by the links in its messages.
"""
import json

from django.contrib import admin
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.admin_selection import CheckedSelectionMixin
from calls.alerts.models import AlertSubscription

EMAIL_PERMISSION = "alerts.view_subscriber_email"


class ConfirmedFilter(admin.SimpleListFilter):
    title = _("confirmed")
    parameter_name = "confirmed"

    def lookups(self, request, model_admin):
        return [("yes", _("Confirmed")), ("no", _("Awaiting confirmation"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(confirmed_at__isnull=self.value() == "no")
        return queryset


def data_protection_export(subscriptions) -> dict:
    """Everything the registry holds about these subscriptions' addresses, for their owners."""
    return {
        "generated_at": timezone.now(),
        "subscriptions": [
            {
                "email": subscription.email, "language": subscription.language, "rhythm": subscription.rhythm,
                "saved_search": subscription.query,
                "call": subscription.call.slug if subscription.call_id else None,
                "created_at": subscription.created_at, "confirmation_sent_at": subscription.confirmation_sent_at,
                "confirmed_at": subscription.confirmed_at, "last_sent_at": subscription.last_sent_at,
                "sent": [
                    {"call": sent.call.slug, "reason": sent.reason, "sent_at": sent.sent_at}
                    for sent in subscription.sent_alerts.all()
                ],
            }
            for subscription in subscriptions
        ],
    }


@admin.register(AlertSubscription)
class AlertSubscriptionAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    list_display = [
        "__str__", "email", "kind", "query", "call", "language", "rhythm", "confirmed", "created_at",
        "last_sent_at", "sent_count",
    ]
    list_filter = [ConfirmedFilter, "rhythm", "language"]
    actions = ["export_for_data_protection"]
    list_select_related = ["call"]

    def _sees_addresses(self, request):
        return request.user.has_perm(EMAIL_PERMISSION)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(sent_total=Count("sent_alerts"))

    def get_search_fields(self, request):
        # An exact address only, and only for those who may see addresses.
        return ["=email"] if self._sees_addresses(request) else []

    def get_fields(self, request, obj=None):
        fields = ["language", "rhythm", "query", "call", "created_at", "confirmation_sent_at", "confirmed_at",
                  "last_sent_at"]
        return (["email"] if self._sees_addresses(request) else []) + fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._sees_addresses(request):
            actions.pop("export_for_data_protection", None)
            actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self._sees_addresses(request) and super().has_delete_permission(request, obj)

    def get_list_display(self, request):
        if self._sees_addresses(request):
            return self.list_display
        return [name for name in self.list_display if name != "email"]

    @admin.display(description=_("kind"))
    def kind(self, obj):
        return _("deadline reminder") if obj.is_reminder else _("saved search")

    @admin.display(description=_("confirmed"), boolean=True, ordering="confirmed_at")
    def confirmed(self, obj):
        return obj.is_confirmed

    @admin.display(description=_("calls sent"), ordering="sent_total")
    def sent_count(self, obj):
        return obj.sent_total

    @admin.action(description=_("Export for a data-protection request (JSON)"))
    def export_for_data_protection(self, request, queryset):
        if not self._sees_addresses(request):
            return None
        subscriptions = queryset.select_related("call").prefetch_related("sent_alerts__call")
        body = json.dumps(data_protection_export(subscriptions), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="email-alerts-data.json"'
        return response

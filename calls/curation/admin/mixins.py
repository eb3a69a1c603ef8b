"""What every curators' admin page shares: no revert past the services, curator notes for those
who may change calls, no deletion, and the calls' list filters."""
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from calls import fields as call_fields
from calls.admin_selection import CheckedSelectionMixin
from calls.choices import Status
from calls.importing import base as importers

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

    def history_view(self, request, object_id, extra_context=None):
        """The history of an entry; an address naming none (text, a NUL character) is Django's
        "doesn't exist" message on the list, as its change page's, not a 500 from the database."""
        if self.get_object(request, unquote(object_id)) is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        self.message_user(request, _(
            "Going back to an old version is not offered: change the fields in the form (the history keeps "
            "every version)."
        ), messages.WARNING)
        opts = self.model._meta
        return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[object_id]))


class CuratorNotesMixin:
    """What curators note to each other is seen only by who may change calls (`fields.hidden_from`,
    the one rule): a view-only staff member sees the entry without it on its change page and in
    its history (the CSV export applies the same rule, `resources.CallResource`)."""

    def _hidden_fields(self, request) -> set:
        """The entry's fields this user may not see (`fields.hidden_from`: curator notes)."""
        names = {field.name for field in self.model._meta.get_fields()}
        return call_fields.hidden_from(request.user) & names

    def get_exclude(self, request, obj=None):
        return [*(super().get_exclude(request, obj) or []), *sorted(self._hidden_fields(request))]

    def get_fieldsets(self, request, obj=None):
        hidden = self._hidden_fields(request)
        return [
            (name, {**options, "fields": [
                kept for kept in (
                    tuple(f for f in field if f not in hidden) if isinstance(field, tuple) else field
                    for field in options["fields"]
                ) if kept and kept not in hidden
            ]})
            for name, options in super().get_fieldsets(request, obj)
        ]

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """simple-history's changes between versions, less the fields this user may not see."""
        hidden = sorted(self._hidden_fields(request))
        previous = None
        for current in historical_records:
            if previous is not None:
                delta = previous.diff_against(current, foreign_keys_are_objs=foreign_keys_are_objs,
                                              excluded_fields=hidden)
                helper = self.get_historical_record_context_helper(request, previous)
                previous.history_delta_changes = helper.context_for_delta_changes(delta)
            previous = current


class NoDeleteMixin(CheckedSelectionMixin):
    """Curators archive; nothing in the admin destroys an entry (and an action applies only to
    rows ticked in the list, `CheckedSelectionMixin`)."""

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

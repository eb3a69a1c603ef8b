"""No lost edits: a curator's save is refused when someone saved the call since they opened it.

The form carries the `updated_at` the curator saw; on save, the call's row is locked and its
current `updated_at` compared. When they differ, the form gets an error that says who changed
what in between (from the history), instead of silently overwriting it.
"""
from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _


class OptimisticLockForm(forms.ModelForm):
    seen_updated_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_updated_at"].initial = self.instance.updated_at.isoformat()

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            return cleaned
        seen = parse_datetime(self.data.get(self.add_prefix("seen_updated_at")) or "")
        # Lock the row until the admin's transaction ends, so two saves cannot interleave.
        current = type(self.instance).objects.select_for_update().filter(pk=self.instance.pk).values_list(
            "updated_at", flat=True
        ).first()
        if seen is None or current is None or current != seen:
            raise ValidationError(self.conflict_message(seen))
        return cleaned

    def conflict_message(self, seen):
        # History rows copy `updated_at`: the row the curator saw, and those saved after it.
        history = self.instance.history.select_related("history_user").order_by("history_date", "history_id")
        opened = history.filter(updated_at=seen).last() if seen else None
        newer = list(history.filter(updated_at__gt=seen)) if seen else list(history)
        who = ", ".join(sorted({str(r.history_user) for r in newer if r.history_user})) or _("someone")
        message = _(
            "This call was changed by %(who)s since you opened it; your changes were not saved. "
            "Reload the page to see the current version, then make your changes again."
        ) % {"who": who}
        if newer and opened is not None:
            changes = [
                f"{change.field}: « {change.old} » → « {change.new} »"
                for change in newer[-1].diff_against(opened, excluded_fields=["updated_at"]).changes
            ]
            if changes:
                message += " " + _("What changed: %(changes)s.") % {"changes": "; ".join(changes)}
        return message

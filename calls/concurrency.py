"""No lost edits: a curator's save is refused when someone saved the call since they opened it.

A curator's copy of a call (the change form, a row of the CSV export) carries its **edit
version**, the `updated_at` the curator saw (`edit_version`). On save, the call's row is locked
and its current version compared. When they differ, the save is refused with who changed what
in between (`changed_since`, from the history), instead of silently overwriting it.
"""
from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _


def edit_version(instance) -> str:
    """The version of `instance` a curator's copy carries: its `updated_at`, as ISO 8601."""
    return instance.updated_at.isoformat()


def read_edit_version(text):
    """The version a curator's copy carries (`edit_version`), or None when it carries none."""
    return parse_datetime((text or "").strip()) if isinstance(text, str) else None


def changed_since(instance, seen) -> tuple[str, list[str]]:
    """Who saved `instance` after its version `seen` (a `datetime`, or None: unknown), and what
    the last of them changed since then, each `field: « old » → « new »` (empty when the history
    does not hold the version seen)."""
    # History rows copy `updated_at`: the row the curator saw, and those saved after it.
    history = instance.history.select_related("history_user").order_by("history_date", "history_id")
    opened = history.filter(updated_at=seen).last() if seen else None
    newer = list(history.filter(updated_at__gt=seen)) if seen else list(history)
    who = ", ".join(sorted({str(r.history_user) for r in newer if r.history_user})) or _("someone")
    if not newer or opened is None:
        return who, []
    return who, [
        f"{change.field}: « {change.old} » → « {change.new} »"
        for change in newer[-1].diff_against(opened, excluded_fields=["updated_at"]).changes
    ]


class OptimisticLockForm(forms.ModelForm):
    seen_updated_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_updated_at"].initial = edit_version(self.instance)

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            return cleaned
        seen = read_edit_version(self.data.get(self.add_prefix("seen_updated_at")))
        # Lock the row until the admin's transaction ends, so two saves cannot interleave.
        current = type(self.instance).objects.select_for_update().filter(pk=self.instance.pk).values_list(
            "updated_at", flat=True
        ).first()
        if seen is None or current is None or current != seen:
            raise ValidationError(self.conflict_message(seen))
        return cleaned

    def conflict_message(self, seen):
        who, changes = changed_since(self.instance, seen)
        message = _(
            "This call was changed by %(who)s since you opened it; your changes were not saved. "
            "Reload the page to see the current version, then make your changes again."
        ) % {"who": who}
        if changes:
            message += " " + _("What changed: %(changes)s.") % {"changes": "; ".join(changes)}
        return message

"""A call's change form: its inlines' rows, checked with the call before anything is saved, and
sources whose "covers" are boxes to tick."""
from django import forms
from django.contrib import admin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from calls import fields as call_fields
from calls import rules, services
from calls.choices import CallCovers, ProgrammeCovers
from calls.concurrency import OptimisticLockForm
from calls.importing import base as importers
from calls.models import (
    Call,
    CallFunder,
    Ceiling,
    Laureate,
    Provenance,
    Round,
    Source,
)
from calls.rules import CallRows


def pending_rows(formset) -> list:
    """The rows a formset will leave once saved: kept initial rows and filled extra ones, unsaved."""
    deleted = set(map(id, formset.deleted_forms)) if formset.can_delete else set()
    return [
        form.instance for form in formset.forms
        if id(form) not in deleted and (form.instance.pk or form.has_changed())
        and not form.errors
    ]


# The call's vocabularies, which its admin form edits and `services.save_call` writes.
CODE_FIELDS = call_fields.names(kind="codes")


class CallRowsFormSet(BaseInlineFormSet):
    """Rows of a call being edited: each formset leaves its pending rows on the call (the form's
    instance, shared by every inline), so that the last one, the sources, checks the whole call
    with them through `services.validate_call`, the one validation of every writer, before
    anything is saved. What it refuses is shown on the call's field it names (the floor, the
    closing date, the publication state), as on every other path."""

    checks_the_call = False

    def clean(self):
        super().clean()
        if not hasattr(self.instance, "_pending_rows"):
            self.instance._pending_rows = CallRows.of(self.instance)
        setattr(self.instance._pending_rows, self.rows_name, pending_rows(self))
        form = getattr(self.instance, "_admin_form", None)
        if not self.checks_the_call or form is None or form.errors:
            return  # the call's own mistakes are shown first, on its fields
        rows = self.instance._pending_rows
        self.instance._widened = rules.derive_window(self.instance, rows.rounds)
        try:
            services.validate_call(
                call=self.instance, rows=rows,
                unsourced_acknowledged=getattr(self.instance, "_unsourced_acknowledged", False),
            )
        except ValidationError as error:
            elsewhere = []
            for field, messages in error.message_dict.items():
                if field in form.fields:
                    form.add_error(field, messages)
                else:
                    elsewhere += messages
            shown_above = _("The call was not saved: see the messages by its fields above.")
            raise ValidationError(elsewhere or [shown_above]) from None


def rows_formset(name, *, checks_the_call=False):
    return type(f"{name.capitalize()}FormSet", (CallRowsFormSet,), {
        "rows_name": name, "checks_the_call": checks_the_call,
    })


class CallFunderInline(admin.TabularInline):
    model = CallFunder
    formset = rows_formset("funders")
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


class CoversField(forms.MultipleChoiceField):
    """A source's `covers` as boxes to tick, one per figure, by its label; a value posted as
    words separated by commas (as the model stores it) is read as those words."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(required=False, label=_("covers"), error_messages={"invalid_choice": _(
            "“%(value)s” is not something a source covers: tick those it supports among the boxes."
        )}, help_text=_("Tick what this source says, for this edition: the figures it supports."), **kwargs)

    def to_python(self, value):
        return [word.strip() for item in super().to_python(value) for word in item.split(",") if word.strip()]


def source_form(coverable):
    """The form of a source in an inline: its `covers` ticked among `coverable`'s choices, stored in their order."""

    class SourceForm(forms.ModelForm):
        covers = CoversField(choices=coverable.choices)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.initial["covers"] = [word for word in coverable.values if word in self.instance.covered_fields]

        def clean_covers(self):
            return ", ".join(word for word in coverable.values if word in self.cleaned_data["covers"])

    return SourceForm


class SourceInline(admin.StackedInline):
    model = Source
    fk_name = "call"
    form = source_form(CallCovers)
    formset = rows_formset("sources", checks_the_call=True)
    extra = 1
    fields = ["title", "url", "covers", ("document", "locator", "accessed_on"), "to_confirm"]


class ProgrammeSourceInline(admin.StackedInline):
    model = Source
    fk_name = "programme"
    form = source_form(ProgrammeCovers)
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance._admin_form = self  # the inlines' last formset checks the call and its rows (above)

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

"""CSV import and export of calls for curators (django-import-export).

What the admin exports, it imports back unchanged: the columns carry labels in the curator's
language (an import also reads the other language's labels and the fields' names), the
apostrophe put before text a spreadsheet would run as a formula is taken off
(`exports.as_written`), and funders, sources, rounds and ceilings are exported for review, never
imported. Each row carries the call's edit version (the change form's, `calls.concurrency`): a row
exported before a later edit of its call is refused, naming the call and what changed. The
preview shows each changed value as `old → new`.
"""
import re
from uuid import uuid4

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources
from import_export.forms import SelectableFieldsExportForm
from import_export.resources import Diff
from import_export.tmp_storages import CacheStorage
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from calls import fields as call_fields
from calls import services
from calls.choices import CallCovers
from calls.concurrency import changed_since, edit_version, read_edit_version
from calls.models import AidFormType, BeneficiaryType, Call, Programme, Region, Theme
from calls.reading.exports import SpreadsheetSafeExportMixin, as_written
from calls.rules import CallRows

# Columns the preview of an import always shows, whatever changed: which call a row is.
ALWAYS_PREVIEWED = {"slug", "title"}
# Columns exported for review and never imported, with their labels.
REVIEW_COLUMNS = {
    "funders": gettext_lazy("funders"), "rounds": gettext_lazy("rounds"), "ceilings": gettext_lazy("ceilings"),
    "sources": gettext_lazy("sources"), "edit_version": gettext_lazy("edit version"),
}



class PendingImportGone(Exception):
    """The pending import a confirmation names is not (or no longer) kept: confirmed already,
    expired, or never previewed."""


class PendingImportStorage(CacheStorage):
    """A file between an import's preview and its confirmation, kept in the shared cache.

    Its name is drawn by the server (128 random bits) and only such a name is ever read back:
    the confirmation form cannot make the server open a file it names, nor read another key.
    A well-formed name the cache does not hold is `PendingImportGone` (the admin says so).
    """

    NAME = re.compile(r"^[0-9a-f]{32}$")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.name is not None and not self.NAME.match(str(self.name)):
            raise PermissionDenied("Unknown pending import.")

    def save(self, data):
        self.name = uuid4().hex
        super().save(data)

    def read(self):
        data = super().read()
        if data is None:
            raise PendingImportGone(self.name)
        return data


class StrictManyToManyWidget(ManyToManyWidget):
    """A list column (`sme|startup`, `11,76`) whose unknown codes are an error on their row, not dropped."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return self.model.objects.none()
        codes = [code.strip() for code in str(value).replace("|", self.separator).split(self.separator)]
        codes = [code for code in codes if code]
        found = self.model.objects.filter(**{f"{self.field}__in": codes})
        unknown = sorted(set(codes) - {str(getattr(obj, self.field)) for obj in found})
        if unknown:
            raise ValueError(_("Unknown code: %(codes)s (see the vocabularies).") % {"codes": ", ".join(unknown)})
        return found


def _rounds_text(call) -> str:
    return " | ".join(
        f"{r.name}: {r.opens_on_display or '…'} → {r.closes_on_display or '…'}"
        + (f" ({r.budget_eur} EUR)" if r.budget_eur is not None else "")
        for r in call.rounds.all()
    )


def _ceilings_text(call) -> str:
    return " | ".join(f"{c.amount_eur} EUR" + (f" ({c.condition})" if c.condition else "") for c in call.ceilings.all())


def _funders_text(call) -> str:
    return " | ".join(f"{role.funder.name} ({role.get_role_display()})" for role in call.funder_roles.all())


def _sources_text(call) -> str:
    def covers(source):
        labels = [str(label) for word, label in CallCovers.choices if word in source.covered_fields]
        return f" [{_('covers')}: {', '.join(labels)}]" if labels else ""

    return " | ".join(
        f"{source.display_title}" + (f" <{source.display_url}>" if source.display_url else "") + covers(source)
        for source in call.sources.all()
    )


def column_label(name) -> str:
    """The column of field `name`, as a curator reads it in the active language ("Total budget (EUR)")."""
    label = REVIEW_COLUMNS.get(name) or Call._meta.get_field(name).verbose_name
    return str(capfirst(label))


class CuratorExportForm(SelectableFieldsExportForm):
    """The admin's export page: the columns to export are named as the file will name them."""

    def _get_field_label(self, resource, field_name: str) -> str:
        return column_label(field_name)


def _shown(name, value) -> str:
    """A value of the preview as a curator reads it: an amount in euros with its thousands grouped."""
    if name and name.endswith("_eur") and re.fullmatch(r"-?\d+", str(value or "")):
        return number_format(int(value), force_grouping=True)
    return "" if value is None else str(value)


class FieldByFieldDiff(Diff):
    """The preview of an imported row, field by field: a changed value shows as `old → new`
    (`3,000,000 → 3,500,000`), never as a diff of its characters."""

    def __init__(self, resource, instance, new):
        super().__init__(resource, instance, new)
        self.names = [field.attribute for field in resource.get_import_fields()]

    def as_html(self):
        cells = []
        for name, before, after in zip(self.names, self.left, self.right, strict=False):
            shown_before, shown_after = _shown(name, before), _shown(name, after)
            if shown_before == shown_after:
                cells.append(format_html("{}", shown_after))
            elif self.new or not shown_before:
                cells.append(format_html("<ins>{}</ins>", shown_after))
            else:
                cells.append(format_html("<del>{}</del> → <ins>{}</ins>", shown_before, shown_after))
        return cells


class CallResource(SpreadsheetSafeExportMixin, resources.ModelResource):
    programme = fields.Field(
        attribute="programme", column_name="programme", widget=ForeignKeyWidget(Programme, field="slug")
    )
    previous_edition = fields.Field(
        attribute="previous_edition", column_name="previous_edition", widget=ForeignKeyWidget(Call, field="slug")
    )
    themes = fields.Field(
        attribute="themes", column_name="themes", widget=StrictManyToManyWidget(Theme, field="slug")
    )
    beneficiaries = fields.Field(
        attribute="beneficiaries", column_name="beneficiaries",
        widget=StrictManyToManyWidget(BeneficiaryType, field="code"),
    )
    aid_forms = fields.Field(
        attribute="aid_forms", column_name="aid_forms", widget=StrictManyToManyWidget(AidFormType, field="code")
    )
    regions = fields.Field(
        attribute="regions", column_name="regions", widget=StrictManyToManyWidget(Region, field="code")
    )
    # For reviewing funders, deadlines, amounts and sources in bulk: exported, never imported (rows
    # are edited in the admin).
    funders = fields.Field(column_name="funders", readonly=True, dehydrate_method="dehydrate_funders")
    rounds = fields.Field(column_name="rounds", readonly=True, dehydrate_method="dehydrate_rounds")
    ceilings = fields.Field(column_name="ceilings", readonly=True, dehydrate_method="dehydrate_ceilings")
    sources = fields.Field(column_name="sources", readonly=True, dehydrate_method="dehydrate_sources")
    # The version of the call the row was exported from: an import refuses a row its call has left.
    edit_version = fields.Field(column_name="edit_version", readonly=True, dehydrate_method="dehydrate_edit_version")

    class Meta:
        model = Call
        import_id_fields = ["slug"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        fields = [*call_fields.names(csv_import=True), "funders", "sources", "edit_version"]
        export_order = fields

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        for name, field in self.fields.items():  # the curator's words, in the active language
            field.column_name = column_label(name)

    @classmethod
    def get_diff_class(cls):
        return FieldByFieldDiff

    def _columns_by_any_name(self) -> dict:
        """Each column's label in the active language, by its field's name and its label in every language."""
        names = {}
        for name, field in self.fields.items():
            names[name] = field.column_name
            for language, _name in settings.LANGUAGES:
                with translation.override(language):
                    names[column_label(name)] = field.column_name
        return names

    def before_import(self, dataset, **kwargs):
        """A sheet as exported, in either language (or with the fields' names), read as written:
        its headers become the active language's labels, the spreadsheet's guard apostrophes go."""
        columns = self._columns_by_any_name()
        headers = [columns.get(str(header).strip(), header) for header in dataset.headers or []]
        rows = [tuple(as_written(cell) for cell in row) for row in dataset]
        dataset.wipe()
        dataset.headers = headers
        for row in rows:
            dataset.append(row)
        super().before_import(dataset, **kwargs)

    def get_export_fields(self, selected_fields=None):
        export_fields = super().get_export_fields(selected_fields)
        if self.user is not None:  # an export by a user: what they may not see is left out
            hidden = call_fields.hidden_from(self.user)
            export_fields = [f for f in export_fields if f.attribute not in hidden]
        return export_fields

    def dehydrate_rounds(self, call):
        return _rounds_text(call)

    def dehydrate_ceilings(self, call):
        return _ceilings_text(call)

    def dehydrate_funders(self, call):
        return _funders_text(call)

    def dehydrate_sources(self, call):
        return _sources_text(call)

    def dehydrate_edit_version(self, call):
        return edit_version(call) if call.pk else ""

    def stale_row_error(self, instance, row) -> dict:
        """A row exported before a later edit of its call: refused, naming the call, both
        versions, who changed it and what (empty when the row carries no version, or the call's)."""
        column = self.fields["edit_version"].column_name
        exported = read_edit_version(row.get(column))
        current = Call.objects.filter(pk=instance.pk).values_list("updated_at", flat=True).first()
        if instance.pk is None or exported is None or current is None or exported == current:
            return {}
        who, changes = changed_since(instance, exported)
        message = _(
            "“%(call)s” was changed by %(who)s after this file was exported (the row is of version %(exported)s, "
            "the call is now at version %(current)s): this row is not imported. Export the calls again and make "
            "your change in the new file."
        ) % {"call": instance.slug, "who": who, "exported": exported.isoformat(), "current": current.isoformat()}
        if changes:
            message += " " + _("What changed: %(changes)s.") % {"changes": "; ".join(changes)}
        return {"edit_version": [ValidationError(message, code="stale")]}

    def import_instance(self, instance, row, **kwargs):
        """Every column's errors on its row, list columns' unknown codes included; a row exported
        before a later edit of its call is refused whole (`stale_row_error`)."""
        if stale := self.stale_row_error(instance, row):
            raise ValidationError(stale)
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors.update(error.error_dict)
        for field in self.get_import_fields():
            if isinstance(field.widget, ManyToManyWidget) and field.column_name in row:
                try:
                    field.widget.clean(row[field.column_name], row=row)
                except ValueError as error:
                    errors[field.attribute] = [ValidationError(str(error), code="invalid")]
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """A row's columns checked, then the call with its rows as every writer checks it
        (`services.validate_call`: a floor above a ceiling the call has, a closing before its
        opening, an unsourced figure of a published call…), in the preview as in the import."""
        if import_validation_errors:
            return super().validate_instance(instance, import_validation_errors, validate_unique)
        services.validate_call(call=instance)
        return None

    def import_data(self, dataset, *args, **kwargs):
        """The import, whose preview keeps only the columns some row changes (and the call's slug
        and title), instead of every column of the sheet."""
        result = super().import_data(dataset, *args, **kwargs)
        headers = list(result.diff_headers)
        previewed = {column_label(name) for name in ALWAYS_PREVIEWED}
        changed = {
            index for row in result.valid_rows() for index, cell in enumerate(row.diff or [])
            if "<ins" in str(cell) or "<del" in str(cell)
        }
        kept = [i for i, header in enumerate(headers) if i in changed or header in previewed]
        if len(kept) < len(headers):
            result.diff_headers = [headers[i] for i in kept]
            for row in result.valid_rows():
                if row.diff:
                    row.diff = [row.diff[i] for i in kept]
            for invalid in result.invalid_rows:
                invalid.values = tuple(invalid.values[i] for i in kept if i < len(invalid.values))
        return result

    def save_instance(self, instance, is_create, row, **kwargs):
        """The call and its vocabularies (themes, beneficiaries… given in the row) are written
        through the services, as one write, like every other write of a call."""
        self.before_save_instance(instance, row, **kwargs)
        if self._is_using_transactions(kwargs) or not self._is_dry_run(kwargs):
            codes = {
                field.attribute: list(field.clean(row)) for field in self.get_import_fields()
                if isinstance(field.widget, ManyToManyWidget) and field.column_name in row
            }
            services.save_call(
                call=instance, rows=CallRows(codes=codes), actor=kwargs.get("user") or self.user, reason="CSV import",
            )
        self.after_save_instance(instance, row, **kwargs)

    def save_m2m(self, instance, row, **kwargs):
        """Written with the call (`save_instance`)."""

"""CSV import and export of calls for curators (django-import-export)."""
import re
from uuid import uuid4

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources
from import_export.tmp_storages import CacheStorage
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from . import fields as call_fields
from . import services
from .exports import SpreadsheetSafeExportMixin
from .models import AidFormType, BeneficiaryType, Call, Programme, Region, Theme

# Columns the preview of an import always shows, whatever changed: which call a row is.
ALWAYS_PREVIEWED = {"slug", "title"}

# Seen only by those who may change calls: what curators note to each other about a draft.
CURATORS_ONLY = ["curator_note"]


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
    # For reviewing deadlines and amounts in bulk: exported, never imported (rows are edited in the admin).
    rounds = fields.Field(column_name="rounds", readonly=True, dehydrate_method="dehydrate_rounds")
    ceilings = fields.Field(column_name="ceilings", readonly=True, dehydrate_method="dehydrate_ceilings")

    class Meta:
        model = Call
        import_id_fields = ["slug"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        fields = call_fields.names(csv_import=True)
        export_order = fields

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def get_export_fields(self, selected_fields=None):
        export_fields = super().get_export_fields(selected_fields)
        if self.user is not None and not self.user.has_perm("calls.change_call"):
            export_fields = [f for f in export_fields if f.attribute not in CURATORS_ONLY]
        return export_fields

    def dehydrate_rounds(self, call):
        return _rounds_text(call)

    def dehydrate_ceilings(self, call):
        return _ceilings_text(call)

    def import_instance(self, instance, row, **kwargs):
        """Every column's errors on its row, list columns' unknown codes included."""
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
        changed = {
            index for row in result.valid_rows() for index, cell in enumerate(row.diff or [])
            if "<ins" in str(cell) or "<del" in str(cell)
        }
        kept = [i for i, header in enumerate(headers) if i in changed or header in ALWAYS_PREVIEWED]
        if len(kept) < len(headers):
            result.diff_headers = [headers[i] for i in kept]
            for row in result.valid_rows():
                if row.diff:
                    row.diff = [row.diff[i] for i in kept]
            for invalid in result.invalid_rows:
                invalid.values = tuple(invalid.values[i] for i in kept if i < len(invalid.values))
        return result

    def save_instance(self, instance, is_create, row, **kwargs):
        """Rows are written through the services, like every other write of a call."""
        self.before_save_instance(instance, row, **kwargs)
        if self._is_using_transactions(kwargs) or not self._is_dry_run(kwargs):
            services.save_call(call=instance, actor=kwargs.get("user") or self.user, reason="CSV import")
        self.after_save_instance(instance, row, **kwargs)

    def save_m2m(self, instance, row, **kwargs):
        """Themes, funders… are written after the call: then the read model follows."""
        super().save_m2m(instance, row, **kwargs)
        if self._is_using_transactions(kwargs) or not self._is_dry_run(kwargs):
            services.rows_written(call=instance)

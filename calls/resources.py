"""CSV import and export of calls for curators (django-import-export)."""
import re
from uuid import uuid4

from django.core.exceptions import PermissionDenied
from import_export import fields, resources
from import_export.tmp_storages import CacheStorage
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from . import services
from .models import AidFormType, BeneficiaryType, Call, Programme, Region, Theme

# Seen only by those who may change calls: what curators note to each other about a draft.
CURATORS_ONLY = ["curator_note"]


class PendingImportStorage(CacheStorage):
    """A file between an import's preview and its confirmation, kept in the shared cache.

    Its name is drawn by the server (128 random bits) and only such a name is ever read back:
    the confirmation form cannot make the server open a file it names, nor read another key.
    """

    NAME = re.compile(r"^[0-9a-f]{32}$")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.name is not None and not self.NAME.match(str(self.name)):
            raise PermissionDenied("Unknown pending import.")

    def save(self, data):
        self.name = uuid4().hex
        super().save(data)


class CallResource(resources.ModelResource):
    programme = fields.Field(
        attribute="programme", column_name="programme", widget=ForeignKeyWidget(Programme, field="slug")
    )
    previous_edition = fields.Field(
        attribute="previous_edition", column_name="previous_edition", widget=ForeignKeyWidget(Call, field="slug")
    )
    themes = fields.Field(attribute="themes", column_name="themes", widget=ManyToManyWidget(Theme, field="slug"))
    beneficiaries = fields.Field(
        attribute="beneficiaries", column_name="beneficiaries", widget=ManyToManyWidget(BeneficiaryType, field="code")
    )
    aid_forms = fields.Field(
        attribute="aid_forms", column_name="aid_forms", widget=ManyToManyWidget(AidFormType, field="code")
    )
    regions = fields.Field(attribute="regions", column_name="regions", widget=ManyToManyWidget(Region, field="code"))

    class Meta:
        model = Call
        import_id_fields = ["slug"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        fields = [
            "slug", "title", "summary", "description", "call_type", "programme", "opens_on",
            "opens_on_precision", "closes_on", "closes_on_precision", "is_rolling", "total_budget_eur",
            "floor_eur", "funding_rate_min_pct", "funding_rate_max_pct", "duration_min_months",
            "duration_max_months", "scope", "consortium_required", "trl_min", "trl_max", "eligibility",
            "eligible_expenses", "apply_url", "previous_edition", "publication_state", "last_verified_on",
            "curator_note", "themes", "beneficiaries", "aid_forms", "regions",
        ]
        export_order = fields

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def get_export_fields(self, selected_fields=None):
        export_fields = super().get_export_fields(selected_fields)
        if self.user is not None and not self.user.has_perm("calls.change_call"):
            export_fields = [f for f in export_fields if f.attribute not in CURATORS_ONLY]
        return export_fields

    def save_instance(self, instance, is_create, row, **kwargs):
        """Rows are written through the services, like every other write of a call."""
        self.before_save_instance(instance, row, **kwargs)
        if self._is_using_transactions(kwargs) or not self._is_dry_run(kwargs):
            services.save_call(call=instance, actor=kwargs.get("user") or self.user, reason="CSV import")
        self.after_save_instance(instance, row, **kwargs)

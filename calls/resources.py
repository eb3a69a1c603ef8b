"""CSV import and export of calls for curators (django-import-export)."""
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from .models import AidFormType, BeneficiaryType, Call, Programme, Region, Theme


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

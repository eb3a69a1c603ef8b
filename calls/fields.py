"""The call's fields, declared once: which surface shows or takes each one.

The API serializer, the public CSV export, the admin's CSV import, partners' submissions, the
importers and "new edition" derive their field lists from `CALL_FIELDS`, so a field added to the
model is added here once, in the order the API and the CSV show it.

Flags:
- `api`: in the API's representation of a call (and the stored document);
- `csv`: a column of the public CSV export;
- `csv_import`: a column of the admin's CSV import/export;
- `submittable`: a partner may give it in an API submission (a scalar field of the call);
- `importable`: an importer (aides-territoires, a partner's feed) may give it; the rest of a call is the curators';
- `recurs`: copied from one edition to the next ("new edition"); dates, rounds, laureates and
  verification belong to one edition;
- `dump`: a key of a call in the bundled data's format, which `calls.dumping` writes and
  `calls.loading` reads (derived fields, the bookkeeping dates and the precisions, which the
  partial dates hold, are not).

`kind` says what a field is: a column of the call, rows of its own, codes of a vocabulary, or
derived (computed for a reader, never written).
"""
import dataclasses


@dataclasses.dataclass(frozen=True)
class CallField:
    name: str
    kind: str = "value"  # "value" (a column of the call), "rows" (its own rows), "codes" (a vocabulary), "derived"
    api: bool = True
    csv: bool = False
    csv_import: bool = False
    submittable: bool = False
    importable: bool = False
    recurs: bool = False
    dump: bool = True


F = CallField
CALL_FIELDS = (
    F("slug", csv=True, csv_import=True),
    F("url", kind="derived", csv=True, dump=False),
    F("title", csv=True, csv_import=True, submittable=True, importable=True),
    F("title_en", csv_import=True, submittable=True),
    F("summary", csv_import=True, submittable=True, importable=True, recurs=True),
    F("summary_en", csv_import=True, submittable=True, recurs=True),
    F("description", csv_import=True, submittable=True, importable=True, recurs=True),
    F("status", kind="derived", csv=True, dump=False),
    F("call_type", csv=True, csv_import=True, submittable=True, importable=True, recurs=True),
    F("programme", csv=True, csv_import=True, submittable=True, recurs=True),
    F("funders", kind="rows", csv=True, importable=True, recurs=True),
    F("opens_on", csv=True, csv_import=True, submittable=True, importable=True),
    F("opens_on_precision", csv_import=True, dump=False),
    F("closes_on", csv=True, csv_import=True, submittable=True, importable=True),
    F("closes_on_precision", csv_import=True, dump=False),
    F("is_rolling", csv=True, csv_import=True, submittable=True, importable=True, recurs=True),
    F("recurrence", csv=True, csv_import=True, submittable=True, importable=True, recurs=True),
    F("editions_per_year", csv_import=True, submittable=True, importable=True, recurs=True),
    F("edition_year", csv=True, csv_import=True, submittable=True, importable=True),
    F("discontinued", csv=True, csv_import=True, submittable=True, importable=True),
    F("next_deadline", kind="derived", csv=True, dump=False),
    F("rounds", kind="rows", csv_import=True),
    F("total_budget_eur", csv=True, csv_import=True, submittable=True, importable=True),
    F("ceilings", kind="rows", csv_import=True, importable=True, recurs=True),
    F("max_ceiling_eur", kind="derived", csv=True, dump=False),
    F("floor_eur", csv=True, csv_import=True, submittable=True, importable=True, recurs=True),
    F("funding_rate_min_pct", csv=True, csv_import=True, submittable=True, importable=True, recurs=True),
    F("funding_rate_max_pct", csv=True, csv_import=True, submittable=True, importable=True, recurs=True),
    F("duration_min_months", csv_import=True, importable=True, recurs=True),
    F("duration_max_months", csv_import=True, importable=True, recurs=True),
    F("aid_forms", kind="codes", csv=True, csv_import=True, importable=True, recurs=True),
    F("beneficiaries", kind="codes", csv=True, csv_import=True, importable=True, recurs=True),
    F("scope", csv=True, csv_import=True, submittable=True, importable=True, recurs=True),
    F("country", importable=True),
    F("regions", kind="codes", csv=True, csv_import=True, importable=True, recurs=True),
    F("themes", kind="codes", csv=True, csv_import=True, recurs=True),
    F("trl_min", csv=True, csv_import=True, submittable=True, importable=True, recurs=True),
    F("trl_max", csv=True, csv_import=True, submittable=True, importable=True, recurs=True),
    F("consortium_required", csv=True, csv_import=True, submittable=True, importable=True, recurs=True),
    F("eligibility", csv_import=True, submittable=True, importable=True, recurs=True),
    F("eligible_expenses", csv_import=True, submittable=True, importable=True, recurs=True),
    F("apply_url", csv=True, csv_import=True, submittable=True, importable=True, recurs=True),
    F("apply_url_kind", csv_import=True, submittable=True, importable=True, recurs=True),
    F("sources", kind="rows", importable=True, recurs=True),
    F("laureates", kind="rows"),
    F("previous_edition", csv_import=True),
    F("next_edition", kind="derived", dump=False),
    F("publication_state", csv=True, csv_import=True),
    F("last_verified_on", csv=True, csv_import=True),
    F("curator_note", api=False, csv_import=True),
    F("created_at", dump=False),
    F("updated_at", csv=True, dump=False),
)
del F


def names(**flags) -> list[str]:
    """The names of the fields with every given flag set, in the declared order:
    `names(csv=True)` are the public CSV's columns."""
    return [
        field.name for field in CALL_FIELDS
        if all(getattr(field, flag) == wanted for flag, wanted in flags.items())
    ]

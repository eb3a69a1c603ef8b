"""The API schema as developers read it: in English, every parameter described for a client.

The public search's filters (`calls.reading.filters.CallFilterSet`) carry labels written for visitors
("Je suis…", "Ma région"); the schema describes the same parameters for developers here, in the
`describe_parameters` postprocessing hook, keeping the types and enums drf-spectacular derived.
The schema itself is always generated in English (`EnglishSchemaView`): one language per schema.
"""
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView

from calls.api.submissions import CROSS_FIELD_RULES

CALL_LIST_PARAMETERS = {
    "q": "Full-text search in the calls' titles, summaries, descriptions, eligibility, types, funders (names, "
         "acronyms), programmes (with their parents) and laureates; every word required, \"phrases\", "
         "-exclusions, `ou`/`or`; French synonyms (AAP, AMI, start-up…); accents ignored, stemmed. "
         "Enables `ordering=relevance`.",
    "status": "Derived status, repeatable (`status=open&status=upcoming`). Without it: `open` and `upcoming` only. "
              "Ignored in `updated_since` syncs.",
    "funder_kind": "Funder kind codes (see `vocabularies/` `funder_kinds`), repeatable: calls with a funder of "
                   "any of these kinds.",
    "call_type": "Call type codes (see `vocabularies/` `call_types`), repeatable.",
    "beneficiary": "Beneficiary type codes (see `vocabularies/` `beneficiary_types`), repeatable: calls open to "
                   "any of them, or stating no restriction.",
    "region": "INSEE region code (see `vocabularies/` `regions`): calls an applicant located there may apply to "
              "(national and European calls included).",
    "aid_form": "Aid form codes (see `vocabularies/` `aid_forms`), repeatable: calls offering any of them.",
    "closes_after": "ISO 8601 date: calls whose closing date, or one of whose rounds' closing dates, is on or "
                    "after it.",
    "closes_before": "ISO 8601 date: calls whose closing date, or one of whose rounds' closing dates, is on or "
                     "before it.",
    "consortium": "`true`: calls that require a consortium; `false`: calls that do not, or do not say.",
    "foreign": "Schemes of other countries are kept as references: `exclude` (default) leaves them out, "
               "`include` adds them, `only` lists only them.",
    "ordering": "`deadline` (default: next deadline first), `newest` (first published first), `ceiling` "
                "(highest ceiling first) or `relevance` (with `q`). Ties are broken by id.",
    "page": "Page number (from 1). In an `updated_since` sync, follow the `next` link instead.",
}


# The submission's errors (`calls.api.submissions` says which status means what).
SUBMISSION_UNPROCESSABLE = (
    "Each field is valid as the schema states it, but the registry refuses it (a slug naming nothing in the "
    "registry), or together they break a rule the schema cannot state; the body maps the field to its "
    "messages (a row's as `#2 closes_on: …`, rows numbered from 1). Nothing is stored. The rules:\n\n"
    + "\n".join(f"- {rule}" for rule in CROSS_FIELD_RULES)
)
SUBMISSION_ERRORS = (
    "A field that breaks this schema (or that it does not define) is a 400 naming it, so is a `funders[].funder` "
    "slug naming no funder (a funder not in the registry is named by its `name` instead, and proposed to the "
    "curators); a well-formed programme or theme slug naming nothing in the registry is a 422 naming the field; "
    "a `slug` already taken a 409; fields each valid that break a rule together (a closing before the opening, "
    "a ceiling below the floor, a funder named twice…) a 422 naming the field."
)

# The sync (`/api/v1/sync/`) takes the same filters, with no default: every change unless asked.
SYNC_PARAMETERS = {
    "status": "Derived status, repeatable: published calls of these statuses only (calls withdrawn since are "
              "listed whatever it says). Without it: every status.",
    "foreign": "`exclude` leaves schemes of other countries out, `only` lists only them (calls withdrawn since "
               "are listed whatever it says). Without it: every country.",
}


def describe_parameters(result, generator, request, public):
    """drf-spectacular postprocessing hook: developer descriptions for the calls list's parameters."""
    for path, descriptions in (
        ("/api/v1/calls/", CALL_LIST_PARAMETERS), ("/api/v1/sync/", {**CALL_LIST_PARAMETERS, **SYNC_PARAMETERS}),
    ):
        operation = result.get("paths", {}).get(path, {}).get("get")
        for parameter in (operation or {}).get("parameters", []):
            if parameter.get("in") == "query" and parameter["name"] in descriptions:
                parameter["description"] = descriptions[parameter["name"]]
    return result


class EnglishSchemaView(SpectacularAPIView):
    """The OpenAPI schema, always in English (`?lang=` is accepted and changes nothing)."""

    def _get_schema_response(self, request):
        with translation.override("en"):
            return super()._get_schema_response(request)

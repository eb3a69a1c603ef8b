"""Streamed CSV of calls, shared by the search page's export and the API's full export.

Rows are written as the queryset is read in chunks, so memory stays flat however many
calls there are.
"""
import csv

from django.http import StreamingHttpResponse

CHUNK_SIZE = 500

CSV_COLUMNS = [
    "slug", "url", "title", "status", "call_type", "programme", "funders", "opens_on", "closes_on",
    "is_rolling", "next_deadline", "total_budget_eur", "max_ceiling_eur", "floor_eur",
    "funding_rate_min_pct", "funding_rate_max_pct", "aid_forms", "beneficiaries", "scope", "regions",
    "themes", "trl_min", "trl_max", "consortium_required", "apply_url", "publication_state",
    "last_verified_on", "updated_at",
]


def _codes(related):
    return "|".join(sorted(str(item.pk) for item in related.all()))


def csv_row(call, build_url) -> list:
    """One call as a CSV row; the call must come from `Call.objects.for_listing()`."""
    return [
        call.slug, build_url(call.get_absolute_url()), call.title, call.current_status, call.call_type,
        call.programme.slug if call.programme_id else "",
        "|".join(f"{role.funder.slug}:{role.role}" for role in call.funder_roles.all()),
        call.opens_on or "", call.closes_on or "", call.is_rolling, call.next_deadline or "",
        call.total_budget_eur if call.total_budget_eur is not None else "",
        call.max_ceiling if call.max_ceiling is not None else "",
        call.floor_eur if call.floor_eur is not None else "",
        call.funding_rate_min_pct if call.funding_rate_min_pct is not None else "",
        call.funding_rate_max_pct if call.funding_rate_max_pct is not None else "",
        _codes(call.aid_forms), _codes(call.beneficiaries), call.scope, _codes(call.regions),
        "|".join(sorted(theme.slug for theme in call.themes.all())),
        call.trl_min or "", call.trl_max or "",
        "" if call.consortium_required is None else call.consortium_required,
        call.apply_url, call.publication_state, call.last_verified_on or "", call.updated_at.isoformat(),
    ]


class _Echo:
    def write(self, value):
        return value


def stream_csv(calls, *, filename: str, build_url) -> StreamingHttpResponse:
    """A streamed CSV download of `calls` (a `for_listing()` queryset)."""
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        for call in calls.iterator(chunk_size=CHUNK_SIZE):
            yield writer.writerow(csv_row(call, build_url))

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

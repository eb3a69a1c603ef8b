"""Load the bundled data (every `calls/data/*.yaml`, merged) into the database, by slug.

Loading is an upsert that only writes what differs, so loading the same file twice changes
nothing: no row, no timestamp, no history entry. See docs/data-format.md for the format.
"""
import json
from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .dates import parse_partial_date
from .models import (
    AidFormType,
    BeneficiaryType,
    Call,
    Document,
    Funder,
    Programme,
    Region,
    Theme,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
LIST_KEYS = ("documents", "themes", "funders", "programmes", "calls")


def read_data(path=DATA_DIR) -> dict:
    """Read the bundled data, a data file, or a dump of `export_registry` (JSON or YAML).

    A folder is read as every `*.yaml` in it, in name order, with each top-level list
    concatenated: one file per funder or programme group keeps the data reviewable.
    """
    path = Path(path)
    if path.is_dir():
        merged = {key: [] for key in LIST_KEYS}
        for part in sorted(path.glob("*.yaml")):
            data = read_data(part) or {}
            unknown = set(data) - set(LIST_KEYS)
            if unknown:
                raise ValueError(f"{part.name}: unknown top-level keys {sorted(unknown)}")
            for key in LIST_KEYS:
                merged[key].extend(data.get(key) or [])
        return merged
    with open(path, encoding="utf-8") as handle:
        if path.suffix == ".json":
            return json.load(handle)
        return yaml.safe_load(handle)


class LoadStats(dict):
    def bump(self, kind, changed):
        key = f"{kind}_{'written' if changed else 'unchanged'}"
        self[key] = self.get(key, 0) + 1


def _upsert(model, lookup: dict, values: dict):
    """Create or update one row, saving (after full_clean) only when a value differs."""
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        instance = model(**lookup)
        changed = True
    else:
        changed = any(getattr(instance, field) != value for field, value in values.items())
    if changed:
        for field, value in values.items():
            setattr(instance, field, value)
        instance.full_clean()
        instance.save()
    return instance, changed


def _dates(entry, key, *, end):
    value, precision = parse_partial_date(entry.get(key), end=end)
    return {key: value, f"{key}_precision": precision}


def _sync_children(manager, rows: list[dict], fields: list[str]) -> bool:
    """Replace the children of `manager` when they differ from `rows` (compared on `fields`)."""
    current = [tuple(getattr(child, f) for f in fields) for child in manager.all()]
    wanted = [tuple(row.get(f) for f in fields) for row in rows]
    if sorted(map(repr, current)) == sorted(map(repr, wanted)):
        return False
    manager.all().delete()
    for row in rows:
        child = manager.model(**{manager.field.name: manager.instance, **row})
        child.full_clean()
        child.save()
    return True


def _sync_m2m(manager, objects) -> bool:
    wanted = {obj.pk for obj in objects}
    if {obj.pk for obj in manager.all()} == wanted:
        return False
    manager.set(objects)
    return True


def _source_rows(entry, documents):
    rows = []
    for source in entry.get("sources") or []:
        accessed, _precision = parse_partial_date(source.get("accessed_on"), end=False)
        rows.append({
            "document": documents[source["document"]] if source.get("document") else None,
            "title": source.get("title") or "",
            "url": source.get("url") or "",
            "locator": source.get("locator") or "",
            "accessed_on": accessed,
            "covers": ", ".join(source.get("covers") or []),
        })
    return rows


SOURCE_FIELDS = ["document", "title", "url", "locator", "accessed_on", "covers"]


@transaction.atomic
def load_registry(*, data: dict) -> LoadStats:
    """Upsert documents, themes, funders, programmes and calls from `data`, by slug."""
    from .dumping import FORMAT_VERSION

    if data.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
        raise ValueError(f"This dump has format {data['format_version']}; this registry reads {FORMAT_VERSION}.")
    stats = LoadStats()
    documents = {}
    for doc in data.get("documents") or []:
        documents[doc["key"]], changed = _upsert(
            Document, {"key": doc["key"]}, {"title": doc["title"], "url": doc.get("url") or ""}
        )
        stats.bump("documents", changed)
    for theme in data.get("themes") or []:
        _obj, changed = _upsert(
            Theme, {"slug": theme["slug"]}, {"name": theme["name"], "name_en": theme["name_en"]}
        )
        stats.bump("themes", changed)
    for funder in data.get("funders") or []:
        _obj, changed = _upsert(Funder, {"slug": funder["slug"]}, {
            "name": funder["name"],
            "acronym": funder.get("acronym") or "",
            "kind": funder["kind"],
            "region": Region.objects.get(code=funder["region"]) if funder.get("region") else None,
            "country": funder.get("country") or "FR",
            "website": funder.get("website") or "",
            "description": funder.get("description") or "",
        })
        stats.bump("funders", changed)
    _load_programmes(data.get("programmes") or [], documents, stats)
    _load_calls(data.get("calls") or [], documents, stats)
    return stats


def _load_programmes(entries, documents, stats):
    # Parents first: a programme may name a parent defined further down the file.
    pending = list(entries)
    while pending:
        ready = [e for e in pending if not e.get("parent") or Programme.objects.filter(slug=e["parent"]).exists()]
        if not ready:
            raise ValueError(f"Unknown parent programme in: {[e['slug'] for e in pending]}")
        for entry in ready:
            pending.remove(entry)
            programme, changed = _upsert(Programme, {"slug": entry["slug"]}, {
                "name": entry["name"],
                "parent": Programme.objects.get(slug=entry["parent"]) if entry.get("parent") else None,
                "budget_eur": entry.get("budget_eur"),
                **_dates(entry, "starts_on", end=False),
                **_dates(entry, "ends_on", end=True),
                "description": entry.get("description") or "",
                "curator_note": entry.get("curator_note") or "",
            })
            changed |= _sync_m2m(programme.funders, Funder.objects.filter(slug__in=entry.get("funders") or []))
            changed |= _sync_children(programme.sources, _source_rows(entry, documents), SOURCE_FIELDS)
            stats.bump("programmes", changed)


def _load_calls(entries, documents, stats):
    by_slug = {entry["slug"]: entry for entry in entries}
    loaded = set()

    def load(entry):
        if entry["slug"] in loaded:
            return
        previous = entry.get("previous_edition")
        if previous in by_slug:  # the previous edition first, so this one can link to it
            load(by_slug[previous])
        loaded.add(entry["slug"])
        values = _call_values(entry)
        if entry.get("published_at"):  # a dump restores it as it was
            values["published_at"] = parse_datetime(entry["published_at"])
        elif values["publication_state"] == "published" and not Call.objects.filter(
            slug=entry["slug"], published_at__isnull=False
        ).exists():
            values["published_at"] = timezone.now()
        call, saved = _upsert(Call, {"slug": entry["slug"]}, values)
        related_changed = _sync_call_relations(call, entry, documents)
        if related_changed and not saved:
            # Partners sync on `updated_at`: a change of rounds or ceilings is a change of the call.
            call.save(update_fields=["updated_at"])
        changed = saved or related_changed
        stats.bump("calls", changed)

    for entry in entries:
        load(entry)


def _call_values(entry):
    last_verified, _precision = parse_partial_date(entry.get("last_verified_on"), end=False)
    return {
        "title": entry["title"],
        "summary": entry.get("summary") or "",
        "description": entry.get("description") or "",
        "call_type": entry["call_type"],
        "programme": Programme.objects.get(slug=entry["programme"]) if entry.get("programme") else None,
        **_dates(entry, "opens_on", end=False),
        **_dates(entry, "closes_on", end=True),
        "is_rolling": bool(entry.get("is_rolling")),
        "total_budget_eur": entry.get("total_budget_eur"),
        "floor_eur": entry.get("floor_eur"),
        "funding_rate_min_pct": entry.get("funding_rate_min_pct"),
        "funding_rate_max_pct": entry.get("funding_rate_max_pct"),
        "duration_min_months": entry.get("duration_min_months"),
        "duration_max_months": entry.get("duration_max_months"),
        "scope": entry.get("scope") or "national",
        "country": entry.get("country") or "FR",
        "consortium_required": entry.get("consortium_required"),
        "trl_min": entry.get("trl_min"),
        "trl_max": entry.get("trl_max"),
        "eligibility": entry.get("eligibility") or "",
        "eligible_expenses": entry.get("eligible_expenses") or "",
        "apply_url": entry.get("apply_url") or "",
        "previous_edition": Call.objects.get(slug=entry["previous_edition"]) if entry.get("previous_edition") else None,
        "publication_state": entry.get("publication_state") or "published",
        "last_verified_on": last_verified,
        "curator_note": entry.get("curator_note") or "",
        "submitted_by": _user(entry.get("submitted_by")),
    }


def _user(username):
    """The partner who submitted a call, when a dump names one that exists here."""
    if not username:
        return None
    return get_user_model().objects.filter(username=username).first()


def _sync_call_relations(call, entry, documents) -> bool:
    changed = False
    changed |= _sync_children(
        call.funder_roles,
        [
            {"funder": Funder.objects.get(slug=f["funder"]), "role": f.get("role") or "funder"}
            for f in entry.get("funders") or []
        ],
        ["funder", "role"],
    )
    changed |= _sync_children(
        call.rounds,
        [
            {"name": r["name"], **_dates(r, "opens_on", end=False), **_dates(r, "closes_on", end=True),
             "budget_eur": r.get("budget_eur")}
            for r in entry.get("rounds") or []
        ],
        ["name", "opens_on", "opens_on_precision", "closes_on", "closes_on_precision", "budget_eur"],
    )
    changed |= _sync_children(
        call.ceilings,
        [{"amount_eur": c["amount_eur"], "condition": c.get("condition") or ""} for c in entry.get("ceilings") or []],
        ["amount_eur", "condition"],
    )
    changed |= _sync_children(
        call.laureates,
        [
            {"organisation": lau["organisation"], "project": lau.get("project") or "",
             "amount_eur": lau.get("amount_eur"),
             "region": Region.objects.get(code=lau["region"]) if lau.get("region") else None,
             "year": lau.get("year")}
            for lau in entry.get("laureates") or []
        ],
        ["organisation", "project", "amount_eur", "region", "year"],
    )
    changed |= _sync_children(call.sources, _source_rows(entry, documents), SOURCE_FIELDS)
    changed |= _sync_m2m(call.aid_forms, AidFormType.objects.filter(code__in=entry.get("aid_forms") or []))
    changed |= _sync_m2m(call.beneficiaries, BeneficiaryType.objects.filter(code__in=entry.get("beneficiaries") or []))
    changed |= _sync_m2m(call.regions, Region.objects.filter(code__in=entry.get("regions") or []))
    changed |= _sync_m2m(call.themes, Theme.objects.filter(slug__in=entry.get("themes") or []))
    return changed

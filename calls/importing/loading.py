"""Load the bundled data (every `calls/data/*.yaml`, merged) into the database, by slug.

Two ways, and neither ever overwrites a curator's work:
- **seed** (the default, what `make run` and `make serve` do on every start): entries that
  are not in the database yet are created; nothing that exists is touched.
- **update** (`load_registry --update`, run on purpose): a changed bundled file is brought
  into a live registry field by field. A field is written only where its current value is
  still what the bundled data last wrote (its `Provenance` baseline): a field a curator
  changed since is skipped and listed, an archived call stays archived, rows a curator added
  stay. `--dry-run` shows the same report and writes nothing.
See docs/data-format.md for the format.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import DateField
from django.utils.dateparse import parse_datetime

from calls import fields, services
from calls.choices import PublicationState
from calls.dates import parse_partial_date
from calls.importing.dumping import (
    FORMAT_VERSION,
    call_entry,
    code_key,
    document_entry,
    funder_entry,
    partial_date,
    programme_entry,
    theme_entry,
)
from calls.models import (
    Call,
    CallFunder,
    Ceiling,
    Document,
    Funder,
    Laureate,
    Programme,
    Provenance,
    Region,
    Round,
    Source,
    Theme,
)
from calls.rules import CallRows, window_covering_rounds

DATA_DIR = Path(__file__).resolve().parent.parent / "data"  # calls/data: the bundled registry
LIST_KEYS = ("documents", "themes", "funders", "programmes", "calls")
ORIGIN = "bundled-data"
ORIGIN_REASON = "bundled data"  # how history names the bundled data's writes (importers name themselves)
# Set by a partner or by the registry itself, never by the bundled data: not merged.
NOT_FROM_THE_DATA = {"published_at", "submitted_by"}


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
        return yaml.load(handle, Loader=SAFE_LOADER)


# libyaml's safe loader (the same documents, ten times faster) where PyYAML was built with it.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class LoadReport:
    """What a load did (or, in a dry run, would do), entry by entry and field by field."""

    created: list = field(default_factory=list)  # (kind, key)
    updated: list = field(default_factory=list)  # (kind, key, field, old, new)
    skipped: list = field(default_factory=list)  # (kind, key, field, why, current, bundled)
    unchanged: int = 0
    gone: list = field(default_factory=list)  # (kind, key): loaded once, no longer in the data

    def lines(self):
        for kind, key in self.created:
            yield f"+ {kind} {key}: created"
        for kind, key, name, old, new in self.updated:
            yield f"~ {kind} {key}.{name}: {short(old)} -> {short(new)}"
        for kind, key, name, why, current, new in self.skipped:
            yield f"! {kind} {key}.{name}: kept {short(current)} ({why}); bundled data says {short(new)}"
        for kind, key in self.gone:
            yield f"? {kind} {key}: no longer in the bundled data; left as it is"

    def summary(self):
        return (
            f"{len(self.created)} created, {len({(k, e) for k, e, *_ in self.updated})} updated "
            f"({len(self.updated)} fields), {len(self.skipped)} fields skipped for curators to settle, "
            f"{self.unchanged} unchanged, {len(self.gone)} no longer in the data"
        )


def short(value, width=70):
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


# --- The bundled format, normalised as `dumping` writes it back from the database -------------

def _date(text, *, end):
    return partial_date(*parse_partial_date(text, end=end))


def _text(value):
    return value or ""


def funder_aliases(entry) -> list[str]:
    """A funder entry's optional `aliases`: a list of names (one name alone is taken as a list of
    one); anything else is a `ValueError` naming the funder."""
    value = entry.get("aliases") or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValueError(f"funders: {entry.get('slug')}: aliases is a list of names")
    return value


def _sorted_rows(rows):
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))


def _normal_sources(entry):
    return [
        {
            "document": source.get("document") or None,
            "title": source.get("title") or None,
            "url": source.get("url") or None,
            "locator": _text(source.get("locator")),
            "accessed_on": _date(source.get("accessed_on"), end=False),
            "covers": sorted(source.get("covers") or []),
        }
        for source in entry.get("sources") or []
    ]


def normalise_document(entry):
    return {"key": entry["key"], "title": entry["title"], "url": entry.get("url") or None}


def normalise_theme(entry):
    return {"slug": entry["slug"], "name": entry["name"], "name_en": entry["name_en"]}


def normalise_funder(entry):
    return {
        "slug": entry["slug"], "name": entry["name"], "name_en": entry.get("name_en") or None,
        "acronym": entry.get("acronym") or None,
        **({"aliases": funder_aliases(entry)} if entry.get("aliases") else {}),  # optional: none is left out
        "kind": entry["kind"], "region": entry.get("region") or None, "country": entry.get("country") or "FR",
        "website": entry.get("website") or None, "description": _text(entry.get("description")),
    }


def normalise_programme(entry):
    return {
        "slug": entry["slug"], "name": entry["name"], "name_en": entry.get("name_en") or None,
        "parent": entry.get("parent") or None,
        "funders": sorted(entry.get("funders") or []), "budget_eur": entry.get("budget_eur"),
        "starts_on": _date(entry.get("starts_on"), end=False), "ends_on": _date(entry.get("ends_on"), end=True),
        "description": _text(entry.get("description")), "curator_note": _text(entry.get("curator_note")),
        "sources": _normal_sources(entry),
    }


# What the bundled data means by a key it leaves out, where that is not the model's default: its
# calls are published unless they say otherwise.
DATA_DEFAULTS = {"publication_state": PublicationState.PUBLISHED}
# The call's window is a rule of its own: its dates widened to its rounds' (`_window`).
WINDOW = ("opens_on", "closes_on")


def normal_value(entry, name):
    """A column of the call (`name`, declared in `calls.fields`) as `dumping.scalar_entry` writes
    it, from an entry: a date in its normal form, a key left out (or empty) as the model's default,
    null or blank. A required column (title, type) the entry leaves out is a `KeyError`."""
    field = Call._meta.get_field(name)
    value = entry.get(name)
    if value not in (None, ""):
        return _date(value, end=False) if isinstance(field, DateField) else value
    if name in DATA_DEFAULTS:
        return DATA_DEFAULTS[name]
    if field.null:
        return None
    if field.has_default():
        return field.get_default()
    if field.blank:
        return ""
    return entry[name]


NORMAL_ROWS = {
    "funders": lambda entry: [
        {"funder": f["funder"], "role": f.get("role") or "funder"} for f in entry.get("funders") or []
    ],
    "rounds": lambda entry: [
        {"name": r["name"], "opens_on": _date(r.get("opens_on"), end=False),
         "closes_on": _date(r.get("closes_on"), end=True), "budget_eur": r.get("budget_eur")}
        for r in entry.get("rounds") or []
    ],
    "ceilings": lambda entry: [
        {"amount_eur": c["amount_eur"], "condition": _text(c.get("condition"))} for c in entry.get("ceilings") or []
    ],
    "sources": _normal_sources,
    "laureates": lambda entry: [
        {"organisation": lau["organisation"], "project": _text(lau.get("project")),
         "amount_eur": lau.get("amount_eur"), "region": lau.get("region") or None, "year": lau.get("year")}
        for lau in entry.get("laureates") or []
    ],
}


def normalise_call(entry):
    """The entry in the form `dumping.call_entry` writes a call: every key `calls.fields` declares
    for the data format (`dump`), with what a key left out means."""
    window = _window(entry)
    dated = {"opens_on": partial_date(*window[:2]), "closes_on": partial_date(*window[2:])}
    normal = {}
    for declared in fields.CALL_FIELDS:
        name = declared.name
        if not declared.dump:
            continue
        if declared.kind == "codes":
            normal[name] = sorted(str(code) for code in entry.get(name) or [])
        elif declared.kind == "rows":
            normal[name] = NORMAL_ROWS[name](entry)
        elif name in WINDOW:
            normal[name] = dated[name]
        else:
            normal[name] = normal_value(entry, name)
    return normal


def comparable(value):
    """Rows of related entries compare as sets: their order in a file or a query is not a change."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return _sorted_rows(value)
    return value


# --- Writing one entry (through the services for calls) --------------------------------------

def _upsert(model, lookup: dict, values: dict, *, actor=None, reason=ORIGIN_REASON):
    """Create or update one row, saving (after full_clean) only when a value differs."""
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        instance = model(**lookup)
        changed = True
    else:
        changed = any(getattr(instance, name) != value for name, value in values.items())
    if changed:
        for name, value in values.items():
            setattr(instance, name, value)
        services.save_reference(instance=instance, actor=actor, reason=reason)
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


def _documents():
    return {document.key: document for document in Document.objects.all()}


def write_document(entry, *, actor=None, reason=ORIGIN_REASON):
    return _upsert(Document, {"key": entry["key"]}, {"title": entry["title"], "url": entry.get("url") or ""},
                   actor=actor, reason=reason)[0]


def write_theme(entry, *, actor=None, reason=ORIGIN_REASON):
    return _upsert(Theme, {"slug": entry["slug"]}, {"name": entry["name"], "name_en": entry["name_en"]},
                   actor=actor, reason=reason)[0]


def write_funder(entry, *, actor=None, reason=ORIGIN_REASON):
    return _upsert(Funder, {"slug": entry["slug"]}, {
        "name": entry["name"],
        "name_en": entry.get("name_en") or "",
        "acronym": entry.get("acronym") or "",
        "aliases": "\n".join(funder_aliases(entry)),
        "kind": entry["kind"],
        "region": Region.objects.get(code=entry["region"]) if entry.get("region") else None,
        "country": entry.get("country") or "FR",
        "website": entry.get("website") or "",
        "description": entry.get("description") or "",
    }, actor=actor, reason=reason)[0]


def write_programme(entry, *, actor=None, reason=ORIGIN_REASON):
    programme, _changed = _upsert(Programme, {"slug": entry["slug"]}, {
        "name": entry["name"],
        "name_en": entry.get("name_en") or "",
        "parent": Programme.objects.get(slug=entry["parent"]) if entry.get("parent") else None,
        "budget_eur": entry.get("budget_eur"),
        **_dates(entry, "starts_on", end=False),
        **_dates(entry, "ends_on", end=True),
        "description": entry.get("description") or "",
        "curator_note": entry.get("curator_note") or "",
    }, actor=actor, reason=reason)
    _sync_m2m(programme.funders, Funder.objects.filter(slug__in=entry.get("funders") or []))
    _sync_children(programme.sources, _source_rows(entry, _documents()), SOURCE_FIELDS)
    return programme


def write_call(entry, *, actor=None, reason=ORIGIN_REASON):
    """Write a call from an entry in the bundled format, through the services' write path.

    History records the change as made by `actor` (an importer's system user; nobody for the
    bundled data) for `reason`. A dump being restored (its entries carry `published_at`) gives
    back calls curators already published, unsourced figures acknowledged then: the restore does
    not ask again (`services.publication_errors`); the bundled data's figures are all sourced
    (tests/importing/test_loading.py).
    """
    values = _call_values(entry)
    call = Call.objects.filter(slug=entry["slug"]).first() or Call(slug=entry["slug"])
    if entry.get("published_at"):  # a dump restores it as it was
        values["published_at"] = parse_datetime(entry["published_at"])
    save = call.pk is None or any(getattr(call, name) != value for name, value in values.items())
    if save:
        for name, value in values.items():
            setattr(call, name, value)
    services.save_call(
        call=call, rows=_entry_rows(entry, _documents()), changed=save, actor=actor, reason=reason,
        unsourced_acknowledged=bool(entry.get("published_at")),
    )
    return call


def _call_values(entry):
    """The call's columns as the entry gives them: those `calls.fields` declares for the data
    format, each read by its model field's type (a programme or an edition by its slug, a date
    from its partial form), then the window, and the partner who submitted it (a dump's)."""
    values = {}
    for name in fields.names(dump=True, kind="value"):
        if name in WINDOW:
            continue
        field, value = Call._meta.get_field(name), normal_value(entry, name)
        if field.is_relation:
            value = field.related_model.objects.get(slug=value) if value else None
        elif isinstance(field, DateField):
            value = parse_partial_date(value, end=False)[0]
        values[name] = value
    window_fields = ["opens_on", "opens_on_precision", "closes_on", "closes_on_precision"]
    values.update(zip(window_fields, _window(entry), strict=True))
    values["submitted_by"] = _user(entry.get("submitted_by"))
    return values


def _user(username):
    """The partner who submitted a call, when a dump names one that exists here."""
    if not username:
        return None
    return get_user_model().objects.filter(username=username).first()


def _round_rows(entry):
    return [
        {"name": r["name"], **_dates(r, "opens_on", end=False), **_dates(r, "closes_on", end=True),
         "budget_eur": r.get("budget_eur")}
        for r in entry.get("rounds") or []
    ]


def _ceiling_rows(entry):
    return [{"amount_eur": c["amount_eur"], "condition": c.get("condition") or ""} for c in entry.get("ceilings") or []]


def _laureate_rows(entry):
    return [
        {"organisation": lau["organisation"], "project": lau.get("project") or "",
         "amount_eur": lau.get("amount_eur"),
         "region": Region.objects.get(code=lau["region"]) if lau.get("region") else None,
         "year": lau.get("year")}
        for lau in entry.get("laureates") or []
    ]


def _entry_rows(entry, documents) -> CallRows:
    """Everything the entry gives its call besides its own fields, unsaved: what the services check
    and write (`services.save_call`)."""
    return CallRows(
        funders=[
            CallFunder(funder=Funder.objects.get(slug=f["funder"]), role=f.get("role") or "funder")
            for f in entry.get("funders") or []
        ],
        rounds=[Round(**row) for row in _round_rows(entry)],
        ceilings=[Ceiling(**row) for row in _ceiling_rows(entry)],
        sources=[Source(**row) for row in _source_rows(entry, documents)],
        laureates=[Laureate(**row) for row in _laureate_rows(entry)],
        codes={name: _terms(name, entry) for name in fields.names(dump=True, kind="codes")},
    )


def _terms(name, entry) -> list:
    """The terms of vocabulary `name` (aid forms, beneficiaries, regions, themes) the entry names."""
    model = Call._meta.get_field(name).related_model
    return list(model.objects.filter(**{f"{code_key(model)}__in": [str(code) for code in entry.get(name) or []]}))


def _window(entry) -> tuple:
    """The call's window as stored: its own dates widened to its rounds' (`rules.window_covering_rounds`)."""
    def dated(item):
        opens = parse_partial_date(item.get("opens_on"), end=False)
        return (*opens, *parse_partial_date(item.get("closes_on"), end=True))

    return window_covering_rounds(dated(entry), [dated(r) for r in entry.get("rounds") or []])


@dataclass(frozen=True)
class Kind:
    name: str
    model: type
    key: str
    normalise: object
    represent: object
    write: object


KINDS = [
    Kind("documents", Document, "key", normalise_document, document_entry, write_document),
    Kind("themes", Theme, "slug", normalise_theme, theme_entry, write_theme),
    Kind("funders", Funder, "slug", normalise_funder, funder_entry, write_funder),
    Kind("programmes", Programme, "slug", normalise_programme, programme_entry, write_programme),
    Kind("calls", Call, "slug", normalise_call, call_entry, write_call),
]


# --- Seed and update ------------------------------------------------------------------------------

def load_registry(*, data: dict, update: bool = False, dry_run: bool = False) -> LoadReport:
    """Seed the registry from `data` or, with `update`, merge a changed bundled file into it.

    See the module's docstring for what each mode may write. With `dry_run`, everything is
    computed and reported, and the transaction is rolled back.
    """
    if data.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
        raise ValueError(f"This dump has format {data['format_version']}; this registry reads {FORMAT_VERSION}.")
    report = LoadReport()
    with transaction.atomic():
        for kind in KINDS:
            entries = _in_dependency_order(kind, data.get(kind.name) or [])
            for entry in entries:
                _merge_entry(kind, entry, report, update=update)
            if update:
                _report_gone(kind, {entry[kind.key] for entry in entries}, report)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _in_dependency_order(kind, entries):
    """Parents before children, previous editions before the next: each can link to the other."""
    link = {"programmes": "parent", "calls": "previous_edition"}.get(kind.name)
    if link is None:
        return list(entries)
    by_key = {entry[kind.key]: entry for entry in entries}
    ordered, placed = [], set()

    def place(entry, chain=()):
        key = entry[kind.key]
        if key in placed:
            return
        if key in chain:
            raise ValueError(f"{kind.name}: {key} links to itself through {link}")
        target = entry.get(link)
        if target in by_key:
            place(by_key[target], (*chain, key))
        placed.add(key)
        ordered.append(entry)

    for entry in entries:
        place(entry)
    return ordered


def _provenance(kind, origin, external_id):
    content_type = ContentType.objects.get_for_model(kind.model)
    return Provenance.objects.filter(origin=origin, content_type=content_type, external_id=external_id).first()


def _remember(kind, instance, *, origin, external_id, baseline, pending, provenance):
    provenance = provenance or Provenance(
        origin=origin, external_id=external_id, content_type=ContentType.objects.get_for_model(kind.model),
    )
    provenance.object_id, provenance.baseline, provenance.pending = instance.pk, baseline, pending
    provenance.full_clean()
    provenance.save()
    return provenance


def _merge_entry(kind, entry, report, *, update):
    key = entry[kind.key]
    instance = kind.model.objects.filter(**{kind.key: key}).first()
    if instance is None:
        create_entry(kind, entry, origin=ORIGIN, external_id=key, report=report)
    elif update:  # seeding touches nothing that exists
        update_entry(kind, instance, entry, origin=ORIGIN, external_id=key, report=report)


def create_entry(kind, entry, *, origin, external_id, report, actor=None, reason=ORIGIN_REASON):
    """Create an entry from a program's `entry` (bundled format), remembering what the origin said.

    History records the write as `actor`'s (an importer's system user) for `reason`.
    """
    instance = kind.write(entry, actor=actor, reason=reason)
    report.created.append((kind.name, entry[kind.key]))
    # A provenance may outlive its entry (a registry emptied before a restore): reuse it.
    _remember(kind, instance, origin=origin, external_id=external_id, baseline=kind.normalise(entry), pending={},
              provenance=_provenance(kind, origin, external_id))
    return instance


def update_entry(kind, instance, entry, *, origin, external_id, report, actor=None, reason=ORIGIN_REASON,
                 only_conflicts=False):
    """Bring what `origin` now says of `instance` into it, field by field, never over a curator.

    A field is written where its current value is still the origin's last one (the provenance's
    baseline); where a curator changed it since, it is kept, reported as skipped, and the
    origin's new value waits in the provenance's `pending` for a curator to settle. The key
    (slug) and what the origin never gives (`NOT_FROM_THE_DATA`) are not merged.

    With `only_conflicts` (importers), a field the curator changed but the origin did not (its
    value is still the baseline) is simply the curator's: kept without a report and not pending,
    unless it was already pending with that value (a conflict not yet settled). Only fields both
    changed wait for a curator; `calls.importing.base.dismiss_pending` settles them.
    """
    wanted = kind.normalise(entry)
    current = kind.represent(instance)
    key = current[kind.key]
    provenance = _provenance(kind, origin, external_id)
    baseline = provenance.baseline if provenance else None
    unsettled = provenance.pending if provenance else {}
    merged, pending = dict(current), {}
    for name, new in wanted.items():
        now = current.get(name)
        if name in NOT_FROM_THE_DATA or name == kind.key or comparable(now) == comparable(new):
            continue
        why = _why_kept(name, now, baseline)
        if why and only_conflicts and _curators_alone(name, new, baseline, unsettled):
            continue
        if why:
            pending[name] = new
            report.skipped.append((kind.name, key, name, why, now, new))
        else:
            merged[name] = new
            report.updated.append((kind.name, key, name, now, new))
    if merged == current:
        report.unchanged += 1
    else:
        kind.write(merged, actor=actor, reason=reason)
    return _remember(kind, instance, origin=origin, external_id=external_id, baseline=wanted, pending=pending,
                     provenance=provenance)


def _curators_alone(name, new, baseline, unsettled):
    """Whether only a curator changed the field: the origin still says its baseline, no conflict waits."""
    if baseline is None or name not in baseline or comparable(baseline[name]) != comparable(new):
        return False
    return name not in unsettled or comparable(unsettled[name]) != comparable(new)


def _why_kept(name, current, baseline):
    """Why a field the bundled data changed keeps its current value, or None to write it."""
    if name == "publication_state" and current == PublicationState.ARCHIVED:
        return "archived by a curator"
    if baseline is None:
        return "not written by the bundled data before"
    if name not in baseline or comparable(baseline[name]) != comparable(current):
        return "changed by a curator since it was loaded"
    return None


def _report_gone(kind, keys_in_data, report):
    content_type = ContentType.objects.get_for_model(kind.model)
    loaded = Provenance.objects.filter(origin=ORIGIN, content_type=content_type).values_list("external_id", flat=True)
    report.gone += [(kind.name, key) for key in sorted(set(loaded) - keys_in_data)]

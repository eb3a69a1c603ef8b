"""Any JSON or CSV export of calls (a partner portal's, say) → drafts, through a mapping file.

The mapping file (YAML) says where each field of a call comes from; the matching, drafts,
update and conflict rules are the same as for aides-territoires (`base`). Example:

```yaml
origin: portail-exemple          # names the provenance and the importer's user (importer-portail-exemple)
format: csv                      # csv or json (default: the file's extension)
records: data.items              # JSON: the dotted path to the list of records (default: the file, or its "results")
delimiter: ";"                   # CSV (default ",")
id: reference                    # required: the column holding the record's stable identifier
page_url: lien                   # the record's page: its source, and a key to find a call citing it
source_title: "Portail exemple"  # the source's title (the record's title is appended)
origin_urls: [page_financeur]    # other pages that identify it (optional)
funders: {from: financeurs, split: "|"}   # names or acronyms, matched to the registry's funders
whole_file: true                 # optional, false unless said: the file is the whole export, so records
                                 # absent from it are flagged as gone (--whole-feed says it for one run)
relevance:                       # optional: the same filter as aides-territoires' (see base.Relevance)
  keywords: [biothérapie, bioproduction]
  fields: [titre, description]   # the columns it looks in
fields:                          # a call's field: a column, or {from, map, split, default}
  title: titre
  description: description
  call_type: {from: type, map: {AAP: call_for_projects, AMI: expression_of_interest}, default: call_for_projects}
  opens_on: ouverture            # 2027, 2027-03, 2027-03-15 or 15/03/2027
  closes_on: cloture
  aid_forms: {from: formes, split: "|", map: {Subvention: grant, Prêt: loan}}
  regions: {from: regions, split: "|"}
  scope: {default: national}
```

Codes (call types, aid forms, beneficiaries, scopes, regions) must be the registry's (see
`/api/v1/vocabularies/`) after `map`: a record with another is rejected, naming the field.
"""
import csv
import datetime
import io
import json
import re
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from calls.choices import REGIONS, AidForm, Beneficiary, CallType, Scope
from calls.importing.base import IMPORTED_FIELDS, Importer, Record, RecordError, Relevance, checked_text

TEXT_LIMITS = {"title": 300, "summary": 5_000, "description": 200_000, "eligibility": 200_000,
               "eligible_expenses": 50_000, "apply_url": 500, "country": 2}
DATES = {"opens_on", "closes_on"}
INTEGERS = {"total_budget_eur": 10**13, "floor_eur": 10**13, "ceiling_eur": 10**13, "funding_rate_min_pct": 100,
            "funding_rate_max_pct": 100, "duration_min_months": 600, "duration_max_months": 600, "trl_min": 9,
            "trl_max": 9}
BOOLEANS = {"is_rolling", "consortium_required"}
CODES = {"call_type": set(CallType.values), "scope": set(Scope.values)}
CODE_LISTS = {"aid_forms": set(AidForm.values), "beneficiaries": set(Beneficiary.values), "regions": set(REGIONS)}
MAPPABLE = (IMPORTED_FIELDS - {"funders", "sources", "ceilings"}) | {"ceiling_eur"}
MAPPING_KEYS = {"origin", "format", "records", "delimiter", "list_separator", "id", "page_url", "source_title",
                "origin_urls", "funders", "whole_file", "relevance", "fields"}
TRUE, FALSE = {"true", "1", "yes", "oui", "vrai", "y"}, {"false", "0", "no", "non", "faux", "n"}
_url = URLValidator(schemes=["http", "https"])


class MappingError(ValueError):
    """The mapping file is not usable: nothing is imported."""


class Mapping:
    """A mapping file, checked once before any record is read."""

    def __init__(self, data, *, where="mapping"):
        if not isinstance(data, dict):
            raise MappingError(f"{where}: a YAML mapping is expected")
        if unknown := set(data) - MAPPING_KEYS:
            raise MappingError(f"{where}: unknown keys {sorted(unknown)}")
        self.origin = data.get("origin")
        if not isinstance(self.origin, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,49}", self.origin):
            raise MappingError(f"{where}: origin: lowercase letters, digits and dashes (at most 50)")
        if self.origin in ("aides-territoires", "bundled-data"):
            raise MappingError(f"{where}: origin {self.origin!r} is taken")
        self.format = data.get("format")
        if self.format not in (None, "csv", "json"):
            raise MappingError(f"{where}: format: csv or json")
        self.records = data.get("records")
        self.delimiter = data.get("delimiter", ",")
        self.list_separator = data.get("list_separator", "|")
        self.id = _column(data.get("id"), f"{where}: id")
        self.page_url = _column(data.get("page_url"), f"{where}: page_url", required=False)
        self.source_title = data.get("source_title") or self.origin
        self.origin_urls = [_column(c, f"{where}: origin_urls") for c in data.get("origin_urls") or []]
        self.funders = _spec(data["funders"], f"{where}: funders") if data.get("funders") else None
        self.whole_file = bool(data.get("whole_file", False))
        relevance = dict(data.get("relevance") or {})
        self.relevance_fields = [_column(c, f"{where}: relevance.fields") for c in relevance.pop("fields", [])]
        try:
            self.relevance = Relevance.from_dict(relevance, where=f"{where}: relevance")
        except ValueError as error:
            raise MappingError(str(error)) from error
        fields = data.get("fields")
        if not isinstance(fields, dict) or "title" not in fields:
            raise MappingError(f"{where}: fields must map at least title")
        if unknown := set(fields) - MAPPABLE:
            raise MappingError(f"{where}: fields: not a call's field an import may give: {sorted(unknown)}")
        self.fields = {name: _spec(spec, f"{where}: fields.{name}") for name, spec in fields.items()}
        if "call_type" not in self.fields:
            raise MappingError(f"{where}: fields.call_type: map it, or give its default")

    @classmethod
    def read(cls, path):
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise MappingError(f"{path}: not YAML ({error.__class__.__name__})") from error
        return cls(data, where=str(path))


def _column(value, where, *, required=True):
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise MappingError(f"{where}: the name of a column or key")
    return value


def _spec(spec, where):
    if isinstance(spec, str):
        return {"from": spec}
    if not isinstance(spec, dict) or set(spec) - {"from", "map", "split", "default"}:
        raise MappingError(f"{where}: a column, or {{from, map, split, default}}")
    if "from" not in spec and "default" not in spec:
        raise MappingError(f"{where}: give from or default")
    if "map" in spec and not isinstance(spec["map"], dict):
        raise MappingError(f"{where}: map is a table of values")
    return spec


class MappedImporter(Importer):
    """Records of a JSON or CSV file, read through a `Mapping`."""

    record_name = "record"

    def __init__(self, mapping: Mapping, **options):
        self.origin = mapping.origin
        self.mapping = mapping
        super().__init__(relevance=mapping.relevance, whole_feed=mapping.whole_file, **options)

    def read(self, path):
        """The records of the file, as dicts."""
        path = Path(path)
        kind = self.mapping.format or ("csv" if path.suffix.lower() == ".csv" else "json")
        text = path.read_text(encoding="utf-8-sig")
        if kind == "csv":
            return list(csv.DictReader(io.StringIO(text), delimiter=self.mapping.delimiter))
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise RecordError(f"{path}: not a JSON document ({error.__class__.__name__})") from error
        if self.mapping.records:
            for key in self.mapping.records.split("."):
                data = data.get(key) if isinstance(data, dict) else None
        elif isinstance(data, dict):
            data = data.get("results")
        if not isinstance(data, list):
            raise RecordError(f"{path}: no list of records at {self.mapping.records or 'the top (or results)'}")
        return data

    def clean(self, raw):
        if not isinstance(raw, dict):
            raise RecordError(f"not an object ({type(raw).__name__})")
        return raw

    def identify(self, record):
        value = record.get(self.mapping.id)
        if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
            raise RecordError(f"{self.mapping.id}: missing")
        return checked_text(str(value), self.mapping.id, max_length=300, required=True)

    def is_relevant(self, record):
        texts = [_text_of(record.get(column), column) for column in self.mapping.relevance_fields]
        return self.relevance.accepts(texts=texts)

    def map(self, record) -> Record:
        fields, problems = {}, []
        for name, spec in self.mapping.fields.items():
            try:
                fields[name] = convert(name, self._value(record, spec))
            except RecordError as error:
                problems.append(f"{name}: {error}")
        if problems:
            raise RecordError("; ".join(problems))
        ceiling = fields.pop("ceiling_eur", None)
        if "ceiling_eur" in self.mapping.fields:
            fields["ceilings"] = [{"amount_eur": ceiling, "condition": ""}] if ceiling else []
        urls = []
        for column in filter(None, [self.mapping.page_url, *self.mapping.origin_urls]):
            value = _text_of(record.get(column), column)
            if value:
                _check_url(value, column)
                urls.append(value)
        if self.mapping.page_url:
            page = _text_of(record.get(self.mapping.page_url), self.mapping.page_url)
            covers = sorted({"opens_on", "closes_on", "total_budget_eur", "floor_eur", "ceilings", "trl",
                             "duration", "funding_rate"} & {_covered(name) for name, v in fields.items() if v})
            fields["sources"] = [{
                "title": f"{self.mapping.source_title} — {fields['title']}"[:500], "url": page,
                "locator": "", "accessed_on": self.today.isoformat(), "covers": covers,
            }] if page else []
        funders = []
        if self.mapping.funders:
            value = self._value(record, self.mapping.funders)
            funders = [checked_text(name, "funders", max_length=300) for name in _as_list(value)]
        return Record(external_id=self.identify(record), fields=fields, funder_names=[f for f in funders if f],
                      urls=urls)

    def _value(self, record, spec):
        value = record.get(spec["from"]) if "from" in spec else None
        if isinstance(value, str) and "split" in spec:
            value = [part.strip() for part in value.split(spec["split"]) if part.strip()]
        if "map" in spec:
            table = spec["map"]
            if isinstance(value, list):
                value = [table.get(item, item) for item in value]
            elif value is not None and not isinstance(value, dict):
                value = table.get(value, table.get(str(value), value))
        if value in (None, "", []) and "default" in spec:
            value = spec["default"]
        return value


def _covered(name):
    return {"funding_rate_min_pct": "funding_rate", "funding_rate_max_pct": "funding_rate", "trl_min": "trl",
            "trl_max": "trl", "duration_min_months": "duration", "duration_max_months": "duration",
            "ceiling_eur": "ceilings"}.get(name, name)


def _text_of(value, name):
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return checked_text(value, name, max_length=200_000)


def _as_list(value):
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return value
    return [value]


def _check_url(value, name):
    try:
        _url(value)
    except ValidationError:
        raise RecordError(f"{name}: not an http(s) address") from None


def convert(name, value):
    """A mapped value as the bundled format wants it for field `name`, or a RecordError."""
    if name in TEXT_LIMITS:
        text = _text_of(value, name)
        if len(text) > TEXT_LIMITS[name]:
            raise RecordError(f"longer than {TEXT_LIMITS[name]} characters")
        if name == "apply_url" and text:
            _check_url(text, name)
        return text
    if name in DATES:
        return _partial_date(value)
    if name in INTEGERS:
        return _integer(value, INTEGERS[name])
    if name in BOOLEANS:
        return _boolean(value)
    if name in CODES:
        if value not in CODES[name]:
            raise RecordError(f"{value!r} is not one of the registry's codes")
        return value
    if name in CODE_LISTS:
        items = [str(item).strip() for item in _as_list(value)]
        if unknown := [item for item in items if item not in CODE_LISTS[name]]:
            raise RecordError(f"not the registry's codes: {', '.join(map(repr, unknown[:5]))}")
        return sorted(set(items))
    raise RecordError("cannot be imported")


def _partial_date(value):
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    if match := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value):
        value = f"{match.group(3)}-{int(match.group(2)):02d}-{int(match.group(1)):02d}"
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
        raise RecordError(f"{value[:40]!r} is not a date (2027, 2027-03, 2027-03-15 or 15/03/2027)")
    try:
        parts = [int(p) for p in value.split("-")]
        datetime.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        raise RecordError(f"{value!r} is not a date") from None
    return value


def _integer(value, highest):
    if value in (None, ""):
        return None
    if isinstance(value, str):
        cleaned = re.sub(r"[\s\u202f\xa0]", "", value)
        if not cleaned.isdigit():
            raise RecordError(f"{value[:40]!r} is not a whole number")
        value = int(cleaned)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= highest:
        raise RecordError(f"not a whole number between 0 and {highest}")
    return value


def _boolean(value):
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    if text == "":
        return None
    raise RecordError(f"{str(value)[:40]!r} is not yes or no")

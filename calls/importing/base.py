"""What every importer shares: matching, the relevance filter, update and conflict rules, review flags.

An importer turns a feed of calls (aides-territoires' API, a partner portal's JSON or CSV export
read through a mapping file) into drafts curators review. It maps each record to an entry in the
bundled data's format (docs/data-format.md) and hands it to the loader's mechanism
(`calls.importing.loading.create_entry` / `update_entry`), so every write goes through
`services.save_call`, with history naming the importer's system user. The rules:

- **Matching.** A record is the call whose `Provenance` has the importer's origin and the
  record's id; else the call that cites the record's page (or the origin page it gives) among its
  sources, when no other record of that origin holds it already; else a new call.
- **New calls are drafts**, submitted by the importer's user (`importer-<origin>`, inactive, in
  the `importers` group): the admin lists them under *origin: imported from a feed*; a curator
  publishes them.
- **An importer gives only the fields its feed knows.** Every other field (publication state,
  summary, curator note, programme, themes, editions, verification…) is passed as the call has
  it, so an import never changes it.
- **Updates never overwrite a curator.** A field is written only where the call still holds what
  the feed last said (the provenance's baseline). Where a curator changed it and the feed did
  too, the curator's value stays and the feed's waits in `Provenance.pending`, shown on the call
  in the admin until a curator settles it (`dismiss_pending`, or copying the value).
- **Review flags** (`Provenance.flags`, `missing_since`): a record no longer in the feed (never
  deleted), funders not in the registry (proposed, not created), likely duplicates (same funder,
  close title, same dates), what the mapping could not place.
- **All or nothing per record.** A record that fails its checks or the model's validation is
  rolled back and reported with its id and field; the others go on.
- **The reading date of a page** (its source's `accessed_on`) is the day the importer read what
  the call now holds: it moves only when the feed says something new, so an unchanged feed
  writes nothing.
"""
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from calls import fields as call_fields
from calls import services
from calls.choices import PublicationState
from calls.importing.dumping import call_entry
from calls.importing.loading import KINDS, LoadReport, comparable, create_entry, normalise_call, short, update_entry
from calls.matching import FunderIndex, fold, likely_duplicates
from calls.models import Call, Provenance, Source
from calls.querysets import today as registry_today

CALLS = next(kind for kind in KINDS if kind.name == "calls")
IMPORTERS_GROUP = "importers"
PUBLIC_SUGGESTIONS_GROUP = "public-suggestions"  # services.PUBLIC_SUGGESTIONS_USER's group
ORIGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
# What a curator should look at, by code; the value says which funder, call or perimeter.
FLAGS = {
    "new_funder": _("Funder not in the registry: create it or link an existing one"),
    "duplicate": _("Likely duplicate of"),
    "perimeter": _("Perimeter not placed in a region"),
    "department": _("Perimeter is a department: placed in its region, narrower than the region (say so in the "
                    "call's eligibility)"),
    "no_perimeter": _("No perimeter given: taken as national until a curator checks where applicants may be"),
    "recurring": _("Recurring: link its editions"),
}
# Fields an importer may give: the rest of a call is the curators' (see the module's docstring).
IMPORTED_FIELDS = set(call_fields.names(importable=True))
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def reads_whole_feed(*, from_file: bool, partial: bool = False, whole_feed: bool = False) -> bool:
    """Whether an import reads the origin's whole feed, so that the imported records it lacks are
    flagged as gone. A read of the feed itself (its API) is whole unless said partial (`--partial`).
    A file is not, unless said to be (`--whole-feed`): a saved answer may be one page, a filtered
    export or an old one, and flagging the feed's other records as gone would send curators after
    calls still in the feed. Saying both is a `ValueError`."""
    if partial and whole_feed:
        raise ValueError("--partial and --whole-feed contradict each other: say one")
    return whole_feed if from_file else not partial


class RecordError(ValueError):
    """A record the importer refuses, with what is wrong (naming the field)."""


class FeedError(RuntimeError):
    """The feed itself could not be read: nothing is imported."""


def read_saved_results(path, *, what: str = "results") -> list:
    """The results of a feed's saved answer (`--file`): one page (`{"results": […]}`), a list of
    such pages, or a list of results; anything else is a `FeedError` naming the file."""
    with open(path, encoding="utf-8") as handle:
        try:
            data = json.load(handle)
        except (ValueError, RecursionError) as error:
            raise FeedError(f"{path}: not a JSON document ({error.__class__.__name__})") from error
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return data["results"]
    if isinstance(data, list) and data and all(isinstance(p, dict) and isinstance(p.get("results"), list)
                                               for p in data):
        return [item for page in data for item in page["results"]]
    if isinstance(data, list):
        return data
    raise FeedError(f"{path}: neither a page of {what} (with results) nor a list of {what}")


def checked_text(value, name, *, max_length, required=False) -> str:
    """A feed's text value, or a RecordError naming the field."""
    if value is None or value == "":
        if required:
            raise RecordError(f"{name}: missing")
        return ""
    if not isinstance(value, str):
        raise RecordError(f"{name}: expected text, got {type(value).__name__}")
    if CONTROL_CHARACTERS.search(value):
        raise RecordError(f"{name}: contains control characters")
    if len(value) > max_length:
        raise RecordError(f"{name}: longer than {max_length} characters")
    return value.strip()


# --- The relevance filter ---------------------------------------------------------------------

@dataclass
class Relevance:
    """Which records concern the registry: those naming a keyword or a category, for an audience.

    - `keywords`: a record is kept when one appears in its texts (title, description,
      eligibility…), at the start of a word, ignoring case and accents: "biothérap" matches
      "Biothérapies";
    - `categories`: or when one of its categories (or their theme) is one of these;
    - `exclude`: keywords that drop a record even when it matched ("maison de santé");
    - `audiences`: when given, and the record lists its audiences, one of them must be here.

    An empty filter (no keywords, no categories) keeps everything. A record already imported is
    followed whatever the filter says: the filter chooses what comes in, not what is updated.
    """

    keywords: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    exclude: list = field(default_factory=list)
    audiences: list = field(default_factory=list)

    KEYS = ("keywords", "categories", "exclude", "audiences")

    @classmethod
    def read(cls, path, *, default=None) -> "Relevance":
        """A filter from a YAML file (`keywords`, `categories`, `exclude`, `audiences` lists);
        a key the file leaves out keeps `default`'s."""
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return cls.from_dict(data, default=default, where=str(path))

    @classmethod
    def from_dict(cls, data, *, default=None, where="relevance"):
        if not isinstance(data, dict) or set(data) - set(cls.KEYS):
            raise ValueError(f"{where}: a mapping with only {', '.join(cls.KEYS)}")
        values = {}
        for key in cls.KEYS:
            items = data.get(key, getattr(default, key) if default else [])
            if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
                raise ValueError(f"{where}: {key} must be a list of texts")
            values[key] = list(items)
        return cls(**values)

    def accepts(self, *, texts=(), categories=(), audiences=()) -> bool:
        if not self.keywords and not self.categories:
            return True
        if self.audiences and audiences:
            wanted = {fold(a) for a in self.audiences}
            if not wanted & {fold(a) for a in audiences}:
                return False
        words = " " + " ".join(fold(text) for text in texts if text) + " "
        if any(f" {fold(kw)}" in words for kw in self.exclude if fold(kw)):
            return False
        if any(f" {fold(kw)}" in words for kw in self.keywords if fold(kw)):
            return True
        wanted = {fold(c) for c in self.categories}
        for category in categories:
            parts = [category, *str(category).split("|")]
            if wanted & {fold(part) for part in parts}:
                return True
        return False


# --- What one record gives, and what a run did ----------------------------------------------------

@dataclass
class Record:
    """One feed record mapped: its id, the call fields it gives, and what to match and flag."""

    external_id: str
    fields: dict  # bundled-format fields, only those the feed gives (IMPORTED_FIELDS)
    funder_names: list = field(default_factory=list)
    urls: list = field(default_factory=list)  # its page and the origin page it cites: to match existing calls
    flags: list = field(default_factory=list)  # [{"code", "value"}] from the mapping itself


@dataclass
class ImportReport:
    """What an import did, record by record; `summary()` is the line the commands print."""

    origin: str
    read: int = 0
    kept: int = 0
    new: list = field(default_factory=list)  # slugs
    updated: list = field(default_factory=list)  # slugs
    unchanged: int = 0
    conflicts: list = field(default_factory=list)  # (slug, field, curator's value, feed's value)
    flagged: list = field(default_factory=list)  # (slug, text)
    rejected: list = field(default_factory=list)  # (record, message)
    fields: LoadReport = field(default_factory=LoadReport)  # field by field, as the loader reports it

    def summary(self) -> str:
        return (
            f"{self.origin}: {self.read} read, {self.kept} kept, {len(self.new)} new, {len(self.updated)} updated, "
            f"{self.unchanged} unchanged, {len(self.conflicts)} conflicts, "
            f"{len({slug for slug, _text in self.flagged})} flagged, {len(self.rejected)} rejected"
        )

    def lines(self):
        for slug in self.new:
            yield f"+ {slug}: new draft"
        for _kind, key, name, old, new in self.fields.updated:
            yield f"~ {key}.{name}: {short(old)} -> {short(new)}"
        for slug, name, current, new in self.conflicts:
            yield f"! {slug}.{name}: kept the curator's {short(current)}; the feed now says {short(new)}"
        for slug, text in self.flagged:
            yield f"? {slug}: {text}"
        for record, message in self.rejected:
            yield f"x {record}: rejected: {message}"


# --- The importer ---------------------------------------------------------------------------------

class Importer:
    """Import records from one origin. Subclasses give `clean`, `identify`, `is_relevant`, `map`.

    `whole_feed`: the records are the origin's whole feed, so an imported record absent from them
    is flagged as gone (`Provenance.missing_since`). Say False for a partial read.
    """

    origin = ""
    record_name = "record"  # how the report names a record ("aid 1234")

    def __init__(self, *, relevance: Relevance | None = None, whole_feed: bool = True, today=None):
        if not ORIGIN_PATTERN.match(self.origin):
            raise ValueError(f"origin {self.origin!r}: lowercase letters, digits and dashes, at most 50")
        self.relevance = relevance if relevance is not None else Relevance()
        self.whole_feed = whole_feed
        self.today = today or registry_today()

    # What a subclass gives ---------------------------------------------------------------------
    def clean(self, raw) -> dict:
        """The raw record checked (types, lengths, dates, URLs), or a RecordError naming the field."""
        raise NotImplementedError

    def identify(self, record: dict) -> str:
        raise NotImplementedError

    def is_relevant(self, record: dict) -> bool:
        raise NotImplementedError

    def map(self, record: dict) -> Record:
        raise NotImplementedError

    def expected_to_leave(self, call) -> bool:
        """Whether `call` left the feed as the feed says its records do (not a reason to review it)."""
        return False

    # The run -----------------------------------------------------------------------------------
    @property
    def reason(self) -> str:
        return f"import: {self.origin}"

    def run(self, raws, *, dry_run: bool = False) -> ImportReport:
        """Import `raws` (an iterable of records as the feed gives them); with `dry_run`, write nothing."""
        report = ImportReport(origin=self.origin)
        with transaction.atomic():
            self.user = importer_user(self.origin)
            self._funders = FunderIndex()
            seen = set()
            for index, raw in enumerate(raws, start=1):
                report.read += 1
                self._import_one(raw, index, seen, report)
            if self.whole_feed:
                self._flag_gone(seen, report)
            if dry_run:
                transaction.set_rollback(True)
        return report

    def _import_one(self, raw, index, seen, report):
        name = f"{self.record_name} #{index}"
        try:
            record = self.clean(raw)
            external_id = self.identify(record)
            name = f"{self.record_name} {external_id}"
            if external_id in seen:
                raise RecordError("appears twice in the feed; the first one was imported")
            seen.add(external_id)
            provenance = _provenance(self.origin, external_id)
            if provenance is None and not self.is_relevant(record):
                return
            report.kept += 1
            mapped = self.map(record)
            with transaction.atomic():
                self._write(mapped, provenance, report)
        except ValidationError as error:
            report.rejected.append((name, _validation_text(error)))
        except (RecordError, DatabaseError, ValueError, TypeError) as error:
            report.rejected.append((name, str(error)))

    def _write(self, record, provenance, report):
        call = self._find(record, provenance)
        funders, flags = self._funders.match(record.funder_names)
        fields = {**record.fields, "funders": [{"funder": f.slug, "role": "funder"} for f in funders]}
        if provenance is not None and provenance.object_id == getattr(call, "pk", None):
            fields = _keep_reading_dates(fields, provenance.baseline)
        if call is None:
            slug = services.free_slug(fields["title"], fallback=f"{self.origin}-{record.external_id}")
            entry = {"slug": slug, "publication_state": PublicationState.DRAFT,
                     "submitted_by": self.user.get_username(), **fields}
            call = create_entry(CALLS, entry, origin=self.origin, external_id=record.external_id,
                                report=report.fields, actor=self.user, reason=self.reason)
            report.new.append(call.slug)
        else:
            entry = {**call_entry(call), **fields}
            before = len(report.fields.updated)
            update_entry(CALLS, call, entry, origin=self.origin, external_id=record.external_id,
                         report=report.fields, actor=self.user, reason=self.reason, only_conflicts=True)
            if len(report.fields.updated) > before:
                report.updated.append(call.slug)
            else:
                report.unchanged += 1
        call.refresh_from_db()
        provenance = _provenance(self.origin, record.external_id)
        current = call_entry(call)
        report.conflicts += [(call.slug, name, current.get(name), new) for name, new in provenance.pending.items()]
        flags = record.flags + flags + [
            {"code": "duplicate", "value": other.slug} for other in likely_duplicates(call, funders)
        ]
        if provenance.flags != flags or provenance.missing_since is not None:
            provenance.flags, provenance.missing_since = flags, None
            provenance.full_clean()
            provenance.save(update_fields=["flags", "missing_since"])
        report.flagged += [(call.slug, flag_text(flag)) for flag in flags]

    def _find(self, record, provenance):
        if provenance is not None:
            call = Call.objects.filter(pk=provenance.object_id).first()
            if call is not None:
                return call
        return call_citing(record.urls, origin=self.origin)

    def _flag_gone(self, seen, report):
        if not seen:
            return  # an empty feed says nothing about what left it: flag nothing
        held = Provenance.objects.filter(origin=self.origin, content_type=calls_content_type())
        for provenance in held:
            if provenance.external_id in seen:
                continue
            call = Call.objects.filter(pk=provenance.object_id).only("slug", "closes_on").first()
            if call is None or (provenance.missing_since is None and self.expected_to_leave(call)):
                continue
            if provenance.missing_since is None:
                provenance.missing_since = self.today
                provenance.save(update_fields=["missing_since"])
            report.flagged.append((call.slug, f"no longer in the feed since {provenance.missing_since.isoformat()}"))


def _validation_text(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{name}: {' '.join(map(str, messages))}" for name, messages in error.message_dict.items())
    return " ".join(map(str, error.messages))


def calls_content_type():
    return ContentType.objects.get_for_model(Call)


def _provenance(origin, external_id):
    return Provenance.objects.filter(origin=origin, content_type=calls_content_type(), external_id=external_id).first()


def _keep_reading_dates(fields, baseline):
    """Sources keep the date their page was read while the feed says the same as at that reading."""
    if not baseline or "sources" not in fields:
        return fields
    probe = normalise_call({"slug": "-", "title": "", "call_type": "", **fields})

    def undated(sources):
        return [{**source, "accessed_on": None} for source in sources or []]

    for name in fields:
        if name == "sources":
            if comparable(undated(probe[name])) != comparable(undated(baseline.get(name))):
                return fields
        elif comparable(probe[name]) != comparable(baseline.get(name)):
            return fields
    return {**fields, "sources": baseline["sources"]}


def importer_user(origin):
    """The system user an importer's drafts are submitted by: inactive, no password, not staff."""
    user, created = get_user_model().objects.get_or_create(
        username=f"importer-{origin}", defaults={"is_active": False, "is_staff": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get_or_create(name=IMPORTERS_GROUP)[0])
    return user


def url_variants(url) -> set:
    """The spellings of one page's address that cite the same page (scheme, trailing slash)."""
    url = (url or "").strip().split("#")[0]
    if not url.startswith(("http://", "https://")):
        return set()
    rest = url.split("://", 1)[1]
    bare = rest.rstrip("/")
    return {f"{scheme}://{path}" for scheme in ("http", "https") for path in (bare, bare + "/")}


def call_citing(urls, *, origin):
    """The call citing one of `urls` among its sources that no record of `origin` holds yet."""
    variants = set().union(*(url_variants(url) for url in urls)) if urls else set()
    if not variants:
        return None
    held = Provenance.objects.filter(origin=origin, content_type=calls_content_type()).values("object_id")
    call_id = (
        Source.objects.filter(call__isnull=False, url__in=variants).exclude(call__in=held)
        .order_by("call_id").values_list("call_id", flat=True).first()
    )
    return Call.objects.filter(pk=call_id).first() if call_id else None


def flag_text(flag) -> str:
    label = FLAGS.get(flag.get("code"), flag.get("code"))
    return f"{label}: {flag.get('value')}"


@transaction.atomic
def dismiss_pending(*, call) -> int:
    """A curator keeps the call as it is over what its feeds now say: their pending values are dropped.

    Says how many values were dropped. A feed's later change to one of these fields is a new
    conflict and waits again.
    """
    dropped = 0
    waiting = Provenance.objects.filter(content_type=calls_content_type(), object_id=call.pk).exclude(pending={})
    for provenance in waiting:
        dropped += len(provenance.pending)
        provenance.pending = {}
        provenance.save(update_fields=["pending"])
    return dropped


def imported_from_a_feed(queryset):
    """Calls submitted by an importer (their system users are in the `importers` group)."""
    return queryset.filter(submitted_by__groups__name=IMPORTERS_GROUP)


def submitted_by_a_partner(queryset):
    """Calls a partner handed in (through the API), not an importer nor a visitor's proposal."""
    return queryset.filter(submitted_by__isnull=False).exclude(
        submitted_by__groups__name__in=[IMPORTERS_GROUP, PUBLIC_SUGGESTIONS_GROUP])


def proposed_by_visitors(queryset):
    """Calls a visitor proposed (`services.suggest_call`): drafts submitted by the `public-suggestions` user."""
    return queryset.filter(submitted_by__groups__name=PUBLIC_SUGGESTIONS_GROUP)


def to_review(queryset):
    """Calls with something for a curator to settle: a feed's value waiting, gone from a feed, a flag."""
    waiting = Provenance.objects.filter(content_type=calls_content_type()).filter(
        Q(missing_since__isnull=False) | ~Q(pending={}) | ~Q(flags=[])
    )
    return queryset.filter(pk__in=waiting.values("object_id"))


def shown(value) -> str:
    """A feed's value as a curator reads it in the admin: text as it is, lists and rows as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)

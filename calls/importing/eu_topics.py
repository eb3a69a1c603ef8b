"""Topics of the EU Funding & Tenders portal → draft calls for curators to review.

The feed is the portal's public search API (`SEARCH_URL`): a POST with `apiKey=SEDIA`,
`text=***` (every topic), `pageSize` and `pageNumber` in the query string, and the search as a
multipart form (`query`, an Elasticsearch-style JSON filter on `type`, `status` and
`programmePeriod`; `languages`; `sort`), as the portal's own search page sends it. The search reads
forthcoming and open topics: a topic whose last deadline has passed leaves it as expected and is
not flagged as gone; one that leaves before its deadline is. An answer is `{"totalResults", "pageNumber", "pageSize",
"results": […]}`; each result's `metadata` maps a name to a **list of strings**:
`identifier` (the topic, "HORIZON-HLTH-2027-01-IND-01"), `title`, `callIdentifier`, `callTitle`,
`startDate` and `deadlineDate` (timestamps with their offset, `2027-02-10T17:00:00.000+0100`;
two deadlines for a two-stage topic, several for cut-offs), `status` (the portal's codes: not
read, a call's status is derived from its dates), `keywords`, `tags`, `typesOfAction`,
`descriptionByte` (HTML) and `budgetOverview`: a JSON text whose `budgetTopicActionMap` lists,
per topic, actions `{"action": "<topic id> - <type of action>", "plannedOpeningDate",
"deadlineModel", "deadlineDates", "budgetYearMap": {"2027": "…"}, "minContribution",
"maxContribution", "expectedGrants"}`. (Shape checked against public clients of this API.)

Dates are the day each timestamp names in its own offset, never converted to UTC:
`2027-02-10T00:00:00.000+0100` is 10 February. Each deadline is also a round whose name keeps
its hour and offset ("Étape 1 — date limite 10/02/2027 17:00 (UTC+01:00)").

What is kept: `eu_topics.yaml` beside this module (identifiers of the health cluster, the EIC, IHI,
EU4Health, the Cancer mission; bioprocessing and therapy words), or the file given with
`--filter` (`TopicRelevance`). The shared rules (matching, drafts, updates, conflicts, flags)
are in `base`; this module adds a flag for an entry of the registry that already names the topic.
"""
import datetime
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.db.models import Q

from calls.choices import AidForm, CallType, Scope
from calls.importing.aides_territoires import html_to_text
from calls.importing.base import (
    FeedError,
    Importer,
    Record,
    RecordError,
    Relevance,
    calls_content_type,
    checked_text,
    fold,
    read_saved_results,
    url_variants,
)
from calls.importing.http import JsonFeed, multipart_form
from calls.models import Call, Programme, Provenance, Source

ORIGIN = "eu-funding-tenders"
SEARCH_URL = "https://api.tech.ec.europa.eu/search-api/prod/rest/search"
TOPIC_PAGE = "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/{}"
PAGE_SIZE = 100
MAX_PAGES = 200
DEFAULT_FILTER = Path(__file__).with_name("eu_topics.yaml")
# The search: grants (type 1) and cascade funding (2), forthcoming and open (the portal's status
# codes, used only to choose what to read), of the 2021-2027 programmes.
SEARCH_QUERY = {"bool": {"must": [
    {"terms": {"type": ["1", "2"]}},
    {"terms": {"status": ["31094501", "31094502"]}},
    {"term": {"programmePeriod": "2021 - 2027"}},
]}}
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,149}$")
TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
DAY_MONTH_YEAR = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
MAX_AMOUNT = 10**12
TEXTS = {"title": 500, "callTitle": 500, "callIdentifier": 150, "descriptionByte": 200_000}
LISTS = ("keywords", "tags", "typesOfAction")
ACTION_TYPES = {  # the code in a budget action ("HORIZON-RIA") → how the registry says it
    "RIA": "action de recherche et d'innovation (RIA)", "IA": "action d'innovation (IA)",
    "CSA": "action de coordination et de soutien (CSA)", "COFUND": "cofinancement (COFUND)",
    "EIC": "action de l'EIC", "PCP": "achat avant commercialisation (PCP)", "PPI": "achat public d'innovations (PPI)",
}
# Funders of the registry by topic prefix (names or acronyms `FunderIndex` finds), else the Commission.
FUNDERS = (("HORIZON-EIC-", ["EIC"]), ("HORIZON-JU-IHI-", ["IHI JU"]), ("IHI-", ["IHI JU"]),
           ("HORIZON-HLTH-", ["Commission européenne", "HaDEA"]), ("EU4H-", ["Commission européenne", "HaDEA"]))
# Programmes of the bundled data (40-europe.yaml) by topic prefix, the first that exists.
PROGRAMMES = (("HORIZON-EIC-", ["eic-horizon-europe", "horizon-europe"]),
              ("HORIZON-JU-IHI-", ["innovative-health-initiative", "horizon-europe"]),
              ("IHI-", ["innovative-health-initiative"]),
              ("HORIZON-HLTH-", ["horizon-europe-cluster-1-sante", "horizon-europe"]),
              ("EU4H-", ["eu4health"]), ("HORIZON-", ["horizon-europe"]))


@dataclass
class TopicRelevance(Relevance):
    """Which topics concern the registry: an identifier prefix, or a keyword (see `eu_topics.yaml`)."""

    identifiers: list = field(default_factory=list)

    KEYS = ("identifiers", "keywords", "exclude")

    def accepts_topic(self, *, identifiers=(), texts=()) -> bool:
        words = " " + " ".join(fold(text) for text in texts if text) + " "
        if any(f" {fold(kw)}" in words for kw in self.exclude if fold(kw)):
            return False
        if not self.identifiers and not self.keywords:
            return True
        wanted = [prefix.upper() for prefix in self.identifiers if prefix]
        if any(identifier.upper().startswith(prefix) for identifier in identifiers if identifier for prefix in wanted):
            return True
        return any(f" {fold(kw)}" in words for kw in self.keywords if fold(kw))


def default_relevance() -> TopicRelevance:
    return TopicRelevance.read(DEFAULT_FILTER)


class EuTopics(Importer):
    """Topics of the EU portal as drafts (one call per topic, its deadlines as rounds)."""

    origin = ORIGIN
    record_name = "topic"

    def __init__(self, *, relevance=None, **options):
        super().__init__(relevance=relevance if relevance is not None else default_relevance(), **options)
        self._programmes = None

    # Checks ----------------------------------------------------------------------------------------
    def clean(self, raw) -> dict:
        """Every value the mapping reads, checked; all problems of the topic named at once."""
        if not isinstance(raw, dict):
            raise RecordError(f"not a JSON object ({type(raw).__name__})")
        metadata = raw.get("metadata")
        if not isinstance(metadata, dict):
            raise RecordError("metadata: missing or not an object")
        topic, problems = {}, []

        def check(name, function):
            try:
                topic[name] = function(_values(metadata.get(name), name))
            except RecordError as error:
                problems.append(str(error) if str(error).startswith(name) else f"{name}: {error}")

        check("identifier", lambda values: _identifier(_one(values, "identifier"), "identifier", required=True))
        check("callIdentifier", lambda values: _identifier(_one(values, "callIdentifier"), "callIdentifier"))
        for name, longest in TEXTS.items():
            if name != "callIdentifier":
                check(name, lambda values, n=name, m=longest: checked_text(
                    _one(values, n), n, max_length=m, required=n == "title"))
        for name in LISTS:
            check(name, lambda values, n=name: [checked_text(v, n, max_length=300) for v in values if v])
        check("startDate", lambda values: _instant(_one(values, "startDate"), "startDate"))
        check("deadlineDate", lambda values: sorted(
            {_instant(value, "deadlineDate") for value in values if value}, key=lambda i: (i.day, i.time)))
        check("budgetOverview", lambda values: _budget_overview(_one(values, "budgetOverview")))
        if not problems:
            try:
                topic["action"] = _topic_action(topic["budgetOverview"], topic["identifier"])
            except RecordError as error:
                problems.append(str(error))
        if problems:
            named = f"{topic['identifier']}: " if topic.get("identifier") else ""  # the report names it by number
            raise RecordError(named + "; ".join(problems))
        return topic

    def identify(self, topic) -> str:
        return topic["identifier"].upper()

    def is_relevant(self, topic) -> bool:
        return self.relevance.accepts_topic(
            identifiers=[topic["identifier"], topic["callIdentifier"]],
            texts=[topic["title"], topic["callTitle"], *topic["keywords"], *topic["tags"],
                   html_to_text(topic["descriptionByte"])],
        )

    # Mapping -----------------------------------------------------------------------------------------
    def map(self, topic) -> Record:
        """One topic as a call. Fields not given here are the curators' (see `base`)."""
        identifier = topic["identifier"].upper()
        action = topic["action"]
        page = TOPIC_PAGE.format(identifier.lower())
        opening = topic["startDate"].day if topic["startDate"] else action.get("opening")
        deadlines = topic["deadlineDate"] or [Instant(day, "", "") for day in action.get("deadlines", [])]
        named_two_stage = any("two-stage" in (text or "").lower() for text in (identifier, topic["callIdentifier"]))
        model = action.get("model") or ("two-stage" if named_two_stage else "")  # never guessed from a count
        rounds = _rounds(deadlines, model, opening)
        budget = action.get("budget")
        most, least = action.get("max"), action.get("min")
        ceilings = [{"amount_eur": most, "condition": "contribution maximale de l'UE par projet"}] if most else []
        floor = least if least and (not most or least <= most) else None
        type_of_action = topic["typesOfAction"][0] if topic["typesOfAction"] else action.get("type", "")
        heading = [f"Topic {identifier} du portail Funding & Tenders de l'Union européenne."]
        if topic["callIdentifier"] or topic["callTitle"]:
            call_name = " — ".join(filter(None, [topic["callIdentifier"], topic["callTitle"]]))
            heading.append(f"Appel : {call_name}.")
        if type_of_action:
            heading.append(f"Type d'action : {type_of_action}.")
        if model:
            heading.append(f"Dépôt : {DEADLINE_MODELS.get(fold(model), model)}.")
        if action.get("grants"):
            heading.append(f"Projets financés attendus : {action['grants']}.")
        description = "\n".join(heading) + "\n\n" + html_to_text(topic["descriptionByte"])
        fields = {
            "title": f"{topic['title'][:300 - len(identifier) - 3].rstrip()} ({identifier})",
            "description": description.strip(),
            "call_type": CallType.CALL_FOR_PROJECTS,
            "opens_on": opening,
            "closes_on": deadlines[-1].day if deadlines else None,
            "is_rolling": False,
            "rounds": rounds,
            "total_budget_eur": budget,
            "ceilings": ceilings,
            "floor_eur": floor,
            "aid_forms": [AidForm.GRANT],
            "scope": Scope.EUROPEAN,
            "programme": self._programme(identifier),
            "apply_url": page,
            "sources": [{
                "title": f"{topic['title']} ({identifier}) | Portail Funding & Tenders de l'UE"[:500],
                "url": page, "locator": "fiche du topic (données de l'API de recherche du portail)",
                "accessed_on": self.today.isoformat(),
                "covers": [name for name, given in (
                    ("opens_on", opening), ("closes_on", deadlines), ("rounds", rounds),
                    ("total_budget_eur", budget), ("ceilings", ceilings), ("floor_eur", floor),
                ) if given],
            }],
        }
        return Record(external_id=identifier, fields=fields, funder_names=_funders(identifier), urls=[page],
                      flags=[{"code": "duplicate", "value": slug} for slug in self._naming(identifier, page)])

    def expected_to_leave(self, call) -> bool:
        """The search reads forthcoming and open topics: one whose last deadline has passed leaves it
        as expected. A topic that leaves before its deadline (withdrawn, postponed, renamed) is flagged."""
        return call.closes_on is not None and call.closes_on < self.today

    def _programme(self, identifier):
        if self._programmes is None:
            self._programmes = set(Programme.objects.values_list("slug", flat=True))
        for prefix, slugs in PROGRAMMES:
            if identifier.startswith(prefix):
                return next((slug for slug in slugs if slug in self._programmes), None)
        return None

    def _naming(self, identifier, page):
        """Slugs of calls that already name the topic (in their title or slug) and that this import
        neither holds nor takes over (a call citing the topic's page is updated, not flagged)."""
        held = Provenance.objects.filter(origin=self.origin, content_type=calls_content_type()).values("object_id")
        citing = Source.objects.filter(call__isnull=False, url__in=url_variants(page)).values("call_id")
        slug = fold(identifier).replace(" ", "-")
        return list(
            Call.objects.exclude(pk__in=held).exclude(pk__in=citing)
            .filter(Q(title__icontains=identifier) | Q(slug__startswith=slug))
            .order_by("slug").values_list("slug", flat=True)[:5]
        )


DEADLINE_MODELS = {"single stage": "en une étape", "two stage": "en deux étapes",
                   "multiple cut off": "plusieurs dates de clôture", "continuous": "au fil de l'eau"}


@dataclass(frozen=True)
class Instant:
    """A timestamp of the feed: the day it names (in its own offset), its hour and offset as given."""

    day: str  # YYYY-MM-DD
    time: str  # "17:00", or "" for a day alone
    offset: str  # "UTC+01:00", or ""

    def label(self) -> str:
        day = datetime.date.fromisoformat(self.day).strftime("%d/%m/%Y")
        return " ".join(filter(None, [day, self.time, f"({self.offset})" if self.offset else ""]))


def _rounds(deadlines, model, opening):
    if not deadlines:
        return []
    staged = fold(model) == "two stage" and len(deadlines) == 2
    rounds = []
    for number, deadline in enumerate(deadlines, start=1):
        if staged:
            name = f"Étape {number} — date limite {deadline.label()}"
        elif len(deadlines) > 1:
            name = f"Clôture {number} — date limite {deadline.label()}"
        else:
            name = f"Date limite {deadline.label()}"
        rounds.append({"name": name, "opens_on": opening if number == 1 else None, "closes_on": deadline.day,
                       "budget_eur": None})
    return rounds


def _funders(identifier):
    for prefix, names in FUNDERS:
        if identifier.startswith(prefix):
            return names
    return ["Commission européenne"]


# --- Field checks ----------------------------------------------------------------------------------

def _values(value, name) -> list:
    """A metadata value: a list of strings (a lone string is taken as a list of one)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or len(value) > 200 or not all(isinstance(v, str) or v is None for v in value):
        raise RecordError(f"{name}: expected a list of texts")
    return value


def _one(values, name):
    return values[0] if values else None


def _identifier(value, name, *, required=False):
    text = checked_text(value, name, max_length=150, required=required)
    if text and not IDENTIFIER.match(text):
        raise RecordError(f"{name}: not a topic identifier (letters, digits, dots, dashes)")
    return text


def _instant(value, name):
    text = checked_text(value, name, max_length=40)
    if not text:
        return None
    match = TIMESTAMP.match(text)
    if not match:
        raise RecordError(f"{name}: not a timestamp (2027-02-10T17:00:00.000+0100)")
    day, hour, minute, offset = match.groups()
    try:
        datetime.date.fromisoformat(day)
    except ValueError:
        raise RecordError(f"{name}: not a date ({day})") from None
    if hour is not None and (int(hour) > 23 or int(minute) > 59):
        raise RecordError(f"{name}: not a time of day")
    if offset and offset != "Z":
        sign, digits = offset[0], offset[1:].replace(":", "")
        if int(digits[:2]) > 14 or int(digits[2:]) > 59:
            raise RecordError(f"{name}: not a UTC offset ({offset})")
        offset = f"UTC{sign}{digits[:2]}:{digits[2:]}"
    elif offset == "Z":
        offset = "UTC"
    return Instant(day, f"{hour}:{minute}" if hour is not None else "", offset or "")


def _day(value, name):
    """A date of the budget overview: ISO (2027-02-10, a timestamp) or the portal's 10/02/2027."""
    if value in (None, ""):
        return None
    if isinstance(value, str) and (match := DAY_MONTH_YEAR.match(value)):
        value = f"{match.group(3)}-{match.group(2)}-{match.group(1)}"
    if not isinstance(value, str):
        raise RecordError(f"{name}: not a date")
    instant = _instant(value, name)
    return instant.day if instant else None


def _amount(value, name):
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = value.replace(",", "").replace(" ", "")
        try:
            value = float(value)
        except ValueError:
            raise RecordError(f"{name}: not an amount") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
        raise RecordError(f"{name}: not a whole number of euros between 0 and {MAX_AMOUNT}")
    return value


def _budget_overview(text):
    """The budget overview's JSON text, parsed (an empty one when absent)."""
    if not text:
        return {}
    if len(text) > 500_000:
        raise RecordError("budgetOverview: too long")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise RecordError("budgetOverview: not a JSON text") from None
    if not isinstance(data, dict) or not isinstance(data.get("budgetTopicActionMap", {}), dict):
        raise RecordError("budgetOverview: not an object with a budgetTopicActionMap")
    for actions in data.get("budgetTopicActionMap", {}).values():
        if not isinstance(actions, list) or not all(isinstance(action, dict) for action in actions):
            raise RecordError("budgetOverview: budgetTopicActionMap holds lists of actions")
    return data


def _topic_action(overview, identifier):
    """The topic's figures in the budget overview: its actions (those naming the topic, or the only
    entry), summed: budget over the years, min and max contribution, expected grants, dates."""
    entries = list(overview.get("budgetTopicActionMap", {}).values())
    mine = [a for actions in entries for a in actions
            if str(a.get("action", "")).upper().startswith(identifier.upper())]
    if not mine and len(entries) == 1:
        mine = entries[0]
    if not mine:
        return {}
    name = "budgetOverview"
    budget, grants, least, most, deadlines, opening, model, kind = 0, 0, None, None, set(), None, "", ""
    for action in mine:
        years = action.get("budgetYearMap") or {}
        if not isinstance(years, dict):
            raise RecordError(f"{name}: budgetYearMap is not an object")
        budget += sum(_amount(v, f"{name}: budgetYearMap") or 0 for v in years.values())
        if budget > MAX_AMOUNT:
            raise RecordError(f"{name}: budget above {MAX_AMOUNT}")
        grants += _amount(action.get("expectedGrants"), f"{name}: expectedGrants") or 0
        for key, pick in (("minContribution", min), ("maxContribution", max)):
            value = _amount(action.get(key), f"{name}: {key}")
            if value:
                if key == "minContribution":
                    least = value if least is None else pick(least, value)
                else:
                    most = value if most is None else pick(most, value)
        dates = action.get("deadlineDates") or []
        if not isinstance(dates, list):
            raise RecordError(f"{name}: deadlineDates is not a list")
        deadlines |= {_day(d, f"{name}: deadlineDates") for d in dates if d}
        opening = opening or _day(action.get("plannedOpeningDate"), f"{name}: plannedOpeningDate")
        model = model or checked_text(action.get("deadlineModel"), f"{name}: deadlineModel", max_length=50)
        text = checked_text(action.get("action"), f"{name}: action", max_length=500)
        kind = kind or _action_type(text)
    return {"budget": budget or None, "grants": grants or None, "min": least, "max": most,
            "deadlines": sorted(deadlines), "opening": opening, "model": model, "type": kind}


def _action_type(action):
    """"HORIZON-HLTH-… - HORIZON-RIA HORIZON Research and Innovation Actions" → its type, in French."""
    if " - " not in action:
        return ""
    kind = action.split(" - ", 1)[1].strip()
    code = kind.split()[0].rsplit("-", 1)[-1].upper() if kind else ""
    return ACTION_TYPES.get(code, kind)


# --- Reading the feed -------------------------------------------------------------------------------

def search_url(environ=os.environ) -> str:
    url = environ.get("EU_SEARCH_API_URL") or SEARCH_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedError(f"EU_SEARCH_API_URL: not an http(s) address: {url!r}")
    return url


def read_api(*, url=SEARCH_URL, feed=None, page_size=PAGE_SIZE, max_pages=MAX_PAGES):
    """Every topic the search finds, page after page (a `FeedError` if any page cannot be read)."""
    feed = feed or JsonFeed()
    body, content_type = multipart_form({
        "query": ("application/json", json.dumps(SEARCH_QUERY)),
        "languages": ("application/json", json.dumps(["en"])),
        "sort": ("application/json", json.dumps({"field": "startDate", "order": "ASC"})),
    })
    topics, number, total = [], 1, None
    while True:
        if number > max_pages:
            raise FeedError(f"{url}: more than {max_pages} pages; stopped")
        query = urlencode({"apiKey": "SEDIA", "text": "***", "pageSize": page_size, "pageNumber": number})
        page = feed.post(f"{url}?{query}", body, {"Content-Type": content_type})
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            raise FeedError(f"{url}: page {number} is not a page of results")
        if total is None:
            total = page.get("totalResults")
            if isinstance(total, bool) or not isinstance(total, int) or total < 0:
                raise FeedError(f"{url}: no totalResults in the answer")
        topics.extend(page["results"])
        if not page["results"] or len(topics) >= total or len(page["results"]) < page_size:
            return topics
        number += 1


def read_file(path) -> list:
    """The results of a saved answer of the search API: one page (`{"results": […]}`), a list of
    pages, or a list of results."""
    return read_saved_results(path, what="topics")

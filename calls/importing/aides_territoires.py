"""Aides-territoires (the State's public aid registry) → draft calls for curators to review.

The feed is aides-territoires' public API of aids (`/api/aids/`, DRF pages
`{"count", "next", "previous", "results"}`), each aid as its `AidSerializer` gives it (public
code: MTES-MCT/aides-territoires, `src/aids/api/serializers.py`): `id`, `slug`, `url` (the aid's
page), `name`, `short_title`, `financers`, `instructors`, `programs`, `description` and
`eligibility` (HTML), `perimeter`, `origin_url`, `categories` ("Theme|Category"),
`is_call_for_project`, `application_url`, `targeted_audiences`, `aid_types`, `destinations`,
`start_date`, `predeposit_date`, `submission_deadline`, `subvention_rate_lower_bound` /
`_upper_bound`, `loan_amount`, `recoverable_advance_amount`, `recurrence`, `date_created`,
`date_updated`… Lists of choices come as their French labels ("Subvention", "Entreprises
privées", "Ponctuelle").

Configuration, from the environment:
- `AIDES_TERRITOIRES_API_URL`: the list of aids (default `DEFAULT_API_URL`);
- `AIDES_TERRITOIRES_API_TOKEN`: the API key, when the API asks for one. It is exchanged once per
  run at `AIDES_TERRITOIRES_AUTH_URL` (default: `/api/connexion/` on the API's site; key sent as
  `X-AUTH-TOKEN`, answer `{"token": …}`) for a bearer token sent with every page.

What is kept: `DEFAULT_RELEVANCE` (health, biotechnology, bioproduction, biotherapies, medicines,
industry of the future…, for companies and research), or the YAML file given with `--filter`
(see `Relevance`). The mapping of each field is `AidesTerritoires.map`; the shared rules
(matching, drafts, updates, conflicts, flags) are in `base`.
"""
import datetime
import html
import os
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from calls.choices import REGIONS, AidForm, Beneficiary, CallType, Scope
from calls.importing.base import (
    FeedError,
    Importer,
    Record,
    RecordError,
    Relevance,
    checked_text,
    fold,
    read_saved_results,
)
from calls.importing.http import JsonFeed, follow_pages

ORIGIN = "aides-territoires"
SITE = "https://aides-territoires.beta.gouv.fr"
DEFAULT_API_URL = f"{SITE}/api/aids/"
PAGE_SIZE = 100  # the API's `size` parameter

DEFAULT_RELEVANCE = Relevance(
    keywords=[
        "biotech", "bioproduction", "biothérap", "biomédicament", "bio-industr", "bioprocéd", "biologie",
        "sciences du vivant", "médicament", "pharma", "thérapie génique", "thérapies géniques",
        "thérapie cellulaire", "thérapies cellulaires", "thérapies innovantes", "santé", "e-santé",
        "dispositif médical", "dispositifs médicaux", "industrie du futur", "industrie 4.0", "usine du futur",
    ],
    categories=["Santé"],
    exclude=["maison de santé", "maisons de santé", "centre de santé", "centres de santé", "santé animale"],
    audiences=["Entreprises privées", "Recherche", "Associations"],
)

# Choice labels (and keys, for older or raw exports) → the registry's codes.
AID_FORMS = {
    "subvention": [AidForm.GRANT], "grant": [AidForm.GRANT],
    "pret": [AidForm.LOAN], "loan": [AidForm.LOAN],
    "avance recuperable": [AidForm.REPAYABLE_ADVANCE], "recoverable advance": [AidForm.REPAYABLE_ADVANCE],
    "ingenierie technique": [AidForm.IN_KIND], "ingenierie financiere": [AidForm.IN_KIND],
    "ingenierie juridique administrative": [AidForm.IN_KIND], "technical": [AidForm.IN_KIND],
    "financial": [AidForm.IN_KIND], "legal": [AidForm.IN_KIND],
}
COMPANIES = [Beneficiary.STARTUP, Beneficiary.SME, Beneficiary.MIDCAP, Beneficiary.LARGE_COMPANY]
AUDIENCES = {
    "entreprises privees": COMPANIES, "private sector": COMPANIES,
    "recherche": [Beneficiary.ACADEMIC_LAB], "researcher": [Beneficiary.ACADEMIC_LAB],
    "associations": [Beneficiary.ASSOCIATION], "association": [Beneficiary.ASSOCIATION],
    "communes": [Beneficiary.LOCAL_AUTHORITY], "commune": [Beneficiary.LOCAL_AUTHORITY],
    "epci a fiscalite propre": [Beneficiary.LOCAL_AUTHORITY], "epci": [Beneficiary.LOCAL_AUTHORITY],
    "departements": [Beneficiary.LOCAL_AUTHORITY], "department": [Beneficiary.LOCAL_AUTHORITY],
    "regions": [Beneficiary.LOCAL_AUTHORITY], "region": [Beneficiary.LOCAL_AUTHORITY],
    "collectivites d outre mer a statuts particuliers": [Beneficiary.LOCAL_AUTHORITY],
}
ROLLING = {"permanente", "ongoing"}
RECURRING = {"recurrente", "recurring"}
NATIONAL_PERIMETERS = {"france", "france metropolitaine", "metropole", "outre mer", "mainland", "overseas"}
EUROPEAN_PERIMETERS = {"europe", "union europeenne"}
REGION_NAMES = {fold(name): code for code, name in REGIONS.items()} | {"reunion": "04"}
# Departments (INSEE codes) by region (INSEE codes), regions since 2016.
DEPARTMENTS = {
    code: region
    for region, codes in {
        "84": "01 03 07 15 26 38 42 43 63 69 73 74", "27": "21 25 39 58 70 71 89 90", "53": "22 29 35 56",
        "24": "18 28 36 37 41 45", "94": "2A 2B", "44": "08 10 51 52 54 55 57 67 68 88",
        "32": "02 59 60 62 80", "11": "75 77 78 91 92 93 94 95", "28": "14 27 50 61 76",
        "75": "16 17 19 23 24 33 40 47 64 79 86 87", "76": "09 11 12 30 31 32 34 46 48 65 66 81 82",
        "52": "44 49 53 72 85", "93": "04 05 06 13 83 84", "01": "971", "02": "972", "03": "973",
        "04": "974", "06": "976",
    }.items()
    for code in codes.split()
}

TEXTS = {  # field: longest accepted
    "name": 300, "short_title": 300, "name_initial": 300, "description": 200_000, "eligibility": 200_000,
    "perimeter": 300, "recurrence": 100, "contact": 50_000, "project_examples": 200_000,
}
URLS = ("origin_url", "application_url")
LISTS = ("financers", "instructors", "programs", "targeted_audiences", "aid_types", "mobilization_steps",
         "destinations", "categories")
DATES = ("start_date", "predeposit_date", "submission_deadline")
AMOUNTS = {"subvention_rate_lower_bound": 100, "subvention_rate_upper_bound": 100,
           "loan_amount": 10**12, "recoverable_advance_amount": 10**12}
BOOLEANS = ("is_call_for_project", "is_charged")
_url = URLValidator(schemes=["http", "https"])


class AidesTerritoires(Importer):
    """Aids of aides-territoires as drafts. `site`: where relative aid pages (`url`) are."""

    origin = ORIGIN
    record_name = "aid"

    def __init__(self, *, site=SITE, relevance=None, **options):
        super().__init__(relevance=relevance if relevance is not None else DEFAULT_RELEVANCE, **options)
        self.site = site

    # Checks ----------------------------------------------------------------------------------------
    def clean(self, raw) -> dict:
        """Every field the mapping reads, checked; all problems of the aid named at once."""
        if not isinstance(raw, dict):
            raise RecordError(f"not a JSON object ({type(raw).__name__})")
        aid, problems = {}, []

        def check(name, function):
            try:
                aid[name] = function(raw.get(name))
            except RecordError as error:
                problems.append(str(error) if str(error).startswith(name) else f"{name}: {error}")

        check("id", _aid_id)
        check("url", self._page_url)
        for name, longest in TEXTS.items():
            check(name, lambda value, n=name, m=longest: checked_text(value, n, max_length=m, required=n == "name"))
        for name in URLS:
            check(name, lambda value, n=name: _checked_url(value, n))
        for name in LISTS:
            check(name, lambda value, n=name: _text_list(value, n))
        for name in DATES:
            check(name, lambda value, n=name: _date(value, n))
        for name, highest in AMOUNTS.items():
            check(name, lambda value, n=name, h=highest: _amount(value, n, h))
        for name in BOOLEANS:
            check(name, lambda value, n=name: _boolean(value, n))
        if problems:
            raise RecordError("; ".join(problems))
        return aid

    def _page_url(self, value):
        text = checked_text(value, "url", max_length=500, required=True)
        url = urljoin(self.site + "/", text)
        _checked_url(url, "url")
        return url

    def identify(self, aid) -> str:
        return aid["id"]

    def is_relevant(self, aid) -> bool:
        return self.relevance.accepts(
            texts=[aid["name"], aid["short_title"], aid["description"], aid["eligibility"], aid["project_examples"],
                   *aid["programs"]],
            categories=aid["categories"],
            audiences=aid["targeted_audiences"],
        )

    # Mapping -----------------------------------------------------------------------------------------
    def map(self, aid) -> Record:
        """One aid as a call. Fields not listed here are the curators' (see `base`)."""
        flags = []
        scope, regions, perimeter_flag = perimeter_scope(aid["perimeter"])
        if perimeter_flag:
            flags.append({"code": perimeter_flag, "value": aid["perimeter"]})
        if fold(aid["recurrence"]) in RECURRING:
            flags.append({"code": "recurring", "value": aid["recurrence"]})
        description = html_to_text(aid["description"])
        if aid["predeposit_date"]:
            description = f"{description}\n\nPré-dépôt des dossiers : {aid['predeposit_date']}.".strip()
        ceilings = [
            {"amount_eur": aid[name], "condition": condition}
            for name, condition in (("loan_amount", "prêt"), ("recoverable_advance_amount", "avance récupérable"))
            if aid[name]
        ]
        fields = {
            "title": aid["name"],
            "description": description,
            "call_type": call_type(aid),
            "opens_on": aid["start_date"],
            "closes_on": aid["submission_deadline"],
            "is_rolling": fold(aid["recurrence"]) in ROLLING,
            "ceilings": ceilings,
            "funding_rate_min_pct": aid["subvention_rate_lower_bound"],
            "funding_rate_max_pct": aid["subvention_rate_upper_bound"],
            "aid_forms": _codes(aid["aid_types"], AID_FORMS),
            "beneficiaries": _codes(aid["targeted_audiences"], AUDIENCES),
            "scope": scope,
            "country": "FR",
            "regions": regions,
            "eligibility": html_to_text(aid["eligibility"]),
            "apply_url": aid["application_url"],
            "sources": self._sources(aid, ceilings),
        }
        return Record(
            external_id=aid["id"], fields=fields, funder_names=aid["financers"],
            urls=[aid["url"], aid["origin_url"]], flags=flags,
        )

    def _sources(self, aid, ceilings):
        covers = [name for name, given in (
            ("opens_on", aid["start_date"]), ("closes_on", aid["submission_deadline"]),
            ("funding_rate", aid["subvention_rate_lower_bound"] or aid["subvention_rate_upper_bound"]),
            ("ceilings", ceilings),
        ) if given]
        sources = [{
            "title": f"{aid['name']} | Aides-territoires", "url": aid["url"], "locator": "fiche de l'aide",
            "accessed_on": self.today.isoformat(), "covers": covers,
        }]
        if aid["origin_url"] and aid["origin_url"] != aid["url"]:
            sources.append({
                "title": "Page d'origine de l'aide (lien donné par Aides-territoires)", "url": aid["origin_url"],
                "locator": "", "covers": [],
            })
        return sources


def call_type(aid) -> str:
    """A call for projects (or for expressions of interest, by its name) when the feed says so;
    otherwise an open scheme."""
    if aid["is_call_for_project"]:
        name = f" {fold(aid['name'])} "
        if " ami " in name or "manifestation d interet" in name:
            return CallType.EXPRESSION_OF_INTEREST
        return CallType.CALL_FOR_PROJECTS
    return CallType.OPEN_SCHEME


def perimeter_scope(perimeter) -> tuple:
    """(scope, INSEE region codes, the review flag's code or None) for aides-territoires' perimeter name.

    "France" (and its mainland or overseas parts) is national, "Europe" European, a region by its
    name regional with its code; a department ("Finistère (29)") regional with its region's code,
    flagged `department` (narrower than the region). No perimeter at all is national for want of
    better, flagged `no_perimeter` (never silently national). Anything else (a commune, an
    intercommunality) is regional with no region, flagged `perimeter` for a curator to place.
    """
    name = fold(perimeter)
    if not name:
        return Scope.NATIONAL, [], "no_perimeter"
    if name in NATIONAL_PERIMETERS:
        return Scope.NATIONAL, [], None
    if name in EUROPEAN_PERIMETERS:
        return Scope.EUROPEAN, [], None
    if name in REGION_NAMES:
        return Scope.REGIONAL, [REGION_NAMES[name]], None
    match = re.search(r"\((\d[0-9AB]|\d{3})\)\s*$", perimeter.upper())
    if match and match.group(1) in DEPARTMENTS:
        return Scope.REGIONAL, [DEPARTMENTS[match.group(1)]], "department"
    return Scope.REGIONAL, [], "perimeter"


def _codes(labels, table) -> list:
    return sorted({code for label in labels for code in table.get(fold(label), [])})


class _Text(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "blockquote"}
    SKIPPED = {"script", "style", "template", "iframe", "object", "noscript"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n- " if tag == "li" else "\n")

    def handle_endtag(self, tag):
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS and tag != "li":  # the next item starts its own line
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup) -> str:
    """The feed's HTML as plain text: paragraphs and list items kept, scripts and tags dropped."""
    if not markup:
        return ""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts)).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- Field checks ----------------------------------------------------------------------------------

def _aid_id(value) -> str:
    if isinstance(value, bool) or value is None:
        raise RecordError("id: missing or not a number")
    if isinstance(value, int) and 0 < value < 10**15:
        return str(value)
    if isinstance(value, str) and value.isdigit() and len(value) <= 15:
        return str(int(value))
    raise RecordError("id: not a positive number")


def _checked_url(value, name) -> str:
    text = checked_text(value, name, max_length=500)
    if not text:
        return ""
    try:
        _url(text)
    except ValidationError:
        raise RecordError(f"{name}: not an http(s) address") from None
    return text


def _text_list(value, name) -> list:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 200:
        raise RecordError(f"{name}: expected a list of texts")
    return [checked_text(item, name, max_length=300) for item in value if item not in (None, "")]


def _date(value, name):
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise RecordError(f"{name}: not a date (YYYY-MM-DD)")
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise RecordError(f"{name}: not a date (YYYY-MM-DD)") from None


def _amount(value, name, highest):
    if value in (None, ""):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= highest:
        raise RecordError(f"{name}: not a whole number between 0 and {highest}")
    return value


def _boolean(value, name):
    if value is None or isinstance(value, bool):
        return value
    raise RecordError(f"{name}: expected true, false or null")


# --- Reading the feed -------------------------------------------------------------------------------

def api_settings(environ=os.environ) -> dict:
    """The API's address and key, from the environment (see the module's docstring)."""
    url = environ.get("AIDES_TERRITOIRES_API_URL") or DEFAULT_API_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedError(f"AIDES_TERRITOIRES_API_URL: not an http(s) address: {url!r}")
    return {
        "url": url,
        "token": environ.get("AIDES_TERRITOIRES_API_TOKEN") or None,
        "auth_url": environ.get("AIDES_TERRITOIRES_AUTH_URL") or urlunsplit(
            (parts.scheme, parts.netloc, "/api/connexion/", "", "")),
        "site": f"{parts.scheme}://{parts.netloc}",
    }


def first_page_url(url, page_size=PAGE_SIZE) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("size", str(page_size))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def read_api(*, url, token=None, auth_url=None, feed=None, **_unused):
    """Every aid of the API, page after page (a `FeedError` if any page cannot be read)."""
    feed = feed or JsonFeed()
    headers = {}
    if token:
        answer = feed.get(auth_url, {"X-AUTH-TOKEN": token})
        bearer = answer.get("token") if isinstance(answer, dict) else None
        if not isinstance(bearer, str) or not bearer or CONTROL_OR_SPACE.search(bearer):
            raise FeedError(f"{auth_url}: no token in the answer")
        headers["Authorization"] = f"Bearer {bearer}"
    aids = []
    for results in follow_pages(feed, first_page_url(url), headers=headers):
        aids.extend(results)
    return aids


CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


def read_file(path) -> list:
    """The aids of a saved answer of the API: one page (`{"results": […]}`), a list of pages, or a list of aids."""
    return read_saved_results(path, what="aids")

"""The bundled data tells a start-up what it can act on: on the day it was last checked
(`CHECKED_ON`), each standing scheme rests on a page read recently, each undated entry says what
was searched, and the calls one can apply to link to where one applies.

Read from the data files with the registry's own date rules (`calls.date_facts`), on a fixed day:
the figures below describe the data as curated, not whatever day the suite runs on.
"""
import datetime
import functools
import re
from urllib.parse import parse_qsl, urlsplit

from calls.choices import Recurrence, Status
from calls.date_facts import date_facts, opened_by
from calls.dates import parse_partial_date
from calls.importing.loading import read_data

CHECKED_ON = datetime.date(2026, 12, 6)


@functools.cache
def data():
    """The bundled data files, read when a test first needs them (not while tests are collected)."""
    return read_data()


def published():
    return [call for call in data()["calls"] if call.get("publication_state", "published") == "published"]


def _day(value, end):
    return parse_partial_date(value, end=end)[0]


def _rounds(entry):
    return [(_day(r.get("opens_on"), False), _day(r.get("closes_on"), True)) for r in entry.get("rounds") or []]


@functools.cache
def next_editions():
    """The published entry whose `previous_edition` names a slug: that slug's next edition."""
    return {call["previous_edition"]: call for call in published() if call.get("previous_edition")}


def status_on(entry, on=CHECKED_ON):
    following = next_editions().get(entry["slug"])
    return date_facts(
        opens_on=_day(entry.get("opens_on"), False), closes_on=_day(entry.get("closes_on"), True),
        is_rolling=bool(entry.get("is_rolling")), rounds=_rounds(entry),
        permanent=entry.get("recurrence") == Recurrence.PERMANENT,
        laureates_announced=bool(entry.get("laureates")), edition_year=entry.get("edition_year"),
        discontinued=bool(entry.get("discontinued")),
        next_edition_opened_by=following and opened_by(
            opens_on=_day(following.get("opens_on"), False), closes_on=_day(following.get("closes_on"), True),
            rounds=_rounds(following),
        ),
    ).status_on(on)


def for_applicants_in_france(entry):
    return entry.get("country", "FR") == "FR" or entry.get("scope") in ("european", "international")


def actionable():
    return [
        call for call in published()
        if status_on(call) in (Status.OPEN, Status.UPCOMING) and for_applicants_in_france(call)
        and call.get("call_type") != "proposed_measure"
    ]


def test_a_start_up_has_at_least_thirty_calls_and_schemes_to_act_on():
    calls = actionable()
    assert len(calls) >= 30, sorted(call["slug"] for call in calls)


def test_most_calls_one_can_apply_to_link_to_where_one_applies_and_the_others_say_why():
    calls = actionable()
    without = [call for call in calls if not call.get("apply_url")]
    assert len(without) <= 0.2 * len(calls), sorted(call["slug"] for call in without)
    unexplained = [
        call["slug"] for call in without
        if not re.search(r"apply_url|lien|candidat", call.get("curator_note") or "", re.IGNORECASE)
    ]
    assert unexplained == []


def test_an_application_link_is_never_a_press_release_or_a_news_page():
    """(A funder with no application page is linked by its contact page, labelled so.)"""
    news = re.compile(r"/(press|presse|actualites?|news|communiques?)(/|-|\.|$)", re.IGNORECASE)
    assert [
        call["slug"] for call in actionable()
        if call.get("apply_url_kind", "application") == "application" and news.search(call.get("apply_url") or "")
    ] == []


def test_a_permanent_scheme_rests_on_a_page_read_within_twelve_months_of_its_check():
    for call in published():
        if call.get("recurrence") != Recurrence.PERMANENT:
            continue
        checked = parse_partial_date(call.get("last_verified_on"), end=False)[0]
        assert checked is not None, call["slug"]
        read = [
            parse_partial_date(source.get("accessed_on"), end=False)[0]
            for source in call.get("sources") or [] if "recurrence" in (source.get("covers") or [])
        ]
        assert any(day and checked - day <= datetime.timedelta(days=366) for day in read), call["slug"]


def test_each_entry_whose_dates_are_not_given_says_what_was_searched():
    undated = [call for call in published() if status_on(call) == Status.DATES_UNKNOWN]
    silent = [
        call["slug"] for call in undated
        if not re.search(r"cherch|searched|trouv|relue? le|read on", call.get("curator_note") or "", re.IGNORECASE)
    ]
    assert silent == []


def test_past_editions_read_closed_on_their_evidence():
    """Examples an applicant met as "dates not given" before they were settled."""
    by_slug = {call["slug"]: call for call in data()["calls"]}
    for slug in (
        "i-lab-2023", "clara-oncostarter-2020", "clara-preuve-du-concept-2021", "inca-plbio-2021",
        "hdf-avenir-projets",  # its next edition opened on 1 November 2022
        "genopole-booster-7",  # its next edition, Gene.iO, opened in 2021
        "cap-rdi-centre-val-de-loire",  # its page says the Region replaced it
    ):
        assert status_on(by_slug[slug]) == Status.CLOSED, slug


def test_a_scheme_read_as_stopped_cites_the_page_that_says_so():
    uncited = [
        call["slug"] for call in data()["calls"]
        if call.get("discontinued")
        and not any("discontinued" in (source.get("covers") or []) for source in call.get("sources") or [])
    ]
    assert uncited == []


def _urls():
    for kind in ("calls", "programmes"):
        for entry in data()[kind]:
            yield entry["slug"], entry.get("apply_url")
            for source in entry.get("sources") or []:
                yield entry["slug"], source.get("url")
    for funder in data()["funders"]:
        yield funder["slug"], funder.get("website")
    for document in data()["documents"]:
        yield document["key"], document.get("url")


TRACKING = re.compile(r"^(utm_\w+|mc_[ce]id|fbclid|gclid|msclkid|_hs(enc|mi)|mkt_tok|xtor|at_\w+)$", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+(@|%40)[\w-]+\.[\w.-]+")


def test_no_stored_url_carries_an_email_address_or_a_tracking_parameter():
    found = []
    for owner, url in _urls():
        if not url:
            continue
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if EMAIL.search(parts.path + "?" + parts.query) or any(TRACKING.match(name) for name, _ in query):
            found.append((owner, url))
    assert found == []

"""The dates of a search as an iCalendar file (RFC 5545): for each call, an opening event per
opening and a deadline event per deadline, the deadline with a reminder (VALARM) a week before.

The days are the read model's (`calls.models.CallIndex`): a call's deadlines are exactly its
stored date facts' (`calls.date_facts`: its periods' last days, the days its next deadline can
show, a rolling call's own window included, a round without a closing date none), its openings
its periods' first days and its last opening. Names and precisions come from the stored document
(`calls.reading.documents`, read with `calls.reading.representations.read_representations`): a round closing
(opening) on that day names the event, else it is the call's own. The calendar and the status
never disagree, and the calls' rounds are not read for their dates.

A date known only to the month or the year is an all-day event on the day the registry stores
(the period's last day for a deadline, its first for an opening), its summary saying the date is
approximate: never an event spanning a whole month or year that would pass for the deadline.
"""
import dataclasses
import datetime
import itertools

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from calls.choices import DatePrecision
from calls.date_facts import EARLIEST, Period
from calls.dates import format_partial_date, is_supported_date
from calls.models import CallPeriod, Round
from calls.reading import representations
from calls.reading.exports import CHUNK_SIZE

PRODID = "-//Bioproduction funding-call registry//Deadlines//FR"


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11)."""
    return (
        str(value).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets, never splitting a UTF-8 character."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = 75 if not parts else 74  # continuation lines start with a space
        if size + width > limit:
            parts.append(current)
            current, size = "", 0
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


REMINDER_DAYS = 7


def _approximate(day: datetime.date, precision: str) -> str:
    """"" for a day-precise date, else what the sources give: "mars 2026", "2026"."""
    if precision == DatePrecision.DAY:
        return ""
    return format_partial_date(day, precision)


def _day(value) -> datetime.date | None:
    """A date of the read model: a JSON value ("2026-03-31") or a date column."""
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(value)


@dataclasses.dataclass(frozen=True)
class CalendarDate:
    """One event's date: its UID suffix, its round's name ("" for the call's own), its day and
    the precision the sources give it."""

    key: str
    label: str
    day: datetime.date
    precision: str


@dataclasses.dataclass(frozen=True)
class StoredCall:
    """What the calendar reads of one call: its stored document (`calls.reading.documents`), its date
    facts as the read model stores them, and its rounds' primary keys (the events' UIDs)."""

    document: dict
    updated_at: datetime.datetime
    deadlines: tuple[datetime.date, ...]
    periods: tuple[Period, ...]
    last_opening: datetime.date | None
    round_keys: tuple[str, ...]  # "round-<pk>" of each of the document's rounds, in its order


def _own_or_round(stored: StoredCall, day: datetime.date, side: str, *, own_key: str, suffix: str) -> CalendarDate:
    """The date `day` named after the first round whose `side` ("opens_on", "closes_on") is that
    day, else after the call itself (with its own precision when its own date is that day)."""
    iso = day.isoformat()
    for key, round_ in zip(stored.round_keys, stored.document["rounds"], strict=True):
        if round_[side] == iso:
            return CalendarDate(key + suffix, round_["name"], day, round_[f"{side}_precision"])
    if stored.document[side] == iso:
        return CalendarDate(own_key, "", day, stored.document[f"{side}_precision"])
    # Only when the read model drifted from the call (`rebuild_read_model` reports it): still one
    # UID per day, and the day as stored.
    return CalendarDate(f"{own_key}-{day:%Y%m%d}", "", day, DatePrecision.DAY)


def deadlines(stored: StoredCall) -> list[CalendarDate]:
    """The call's deadlines: exactly the stored date facts' (the periods' last days, the days its
    next deadline can show), each named after a round closing that day, else the call's own."""
    return [_own_or_round(stored, day, "closes_on", own_key="close", suffix="") for day in stored.deadlines]


def openings(stored: StoredCall) -> list[CalendarDate]:
    """The call's openings: its periods' first days ("always" is none) and its last opening (after
    which it is no longer upcoming), each named after a round opening that day, else the call's own."""
    days = {start for start, _end in stored.periods if start != EARLIEST}
    if stored.last_opening is not None:
        days.add(stored.last_opening)
    return [_own_or_round(stored, day, "opens_on", own_key="open", suffix="-open") for day in sorted(days)]


# -- Reading the read model ---------------------------------------------------------------------

# The stored date facts a calendar reads, after what `representations.document_rows` gives.
FACT_COLUMNS = ("index__deadlines", "index__period_count", "index__open_from", "index__open_until",
                "index__last_opening")


def _iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _several_periods(call_ids, using) -> dict[int, list[Period]]:
    """The stored periods of calls with several (one query; a call with one has it in its row)."""
    periods = {}
    if call_ids:
        rows = (
            CallPeriod.objects.using(using).filter(call_index_id__in=call_ids)
            .order_by("starts_on", "ends_on").values_list("call_index_id", "starts_on", "ends_on")
        )
        for call_id, start, end in rows:
            periods.setdefault(call_id, []).append((start, end))
    return periods


def _round_keys(rounds_by_call: dict[int, list], using) -> dict[int, tuple[str, ...]]:
    """`round-<pk>` for each round of each call's document, in the document's order (one query).

    The stored document names and dates the rounds but doesn't carry their primary keys, which
    the events' UIDs have always held (a subscriber's calendar would otherwise show each event
    twice): each document round is matched to the call's round of the same name and dates, the
    rounds' own order breaking ties as it did when the document was built.
    """
    if not rounds_by_call:
        return {}
    pks = {}
    rows = Round.objects.using(using).filter(call_id__in=list(rounds_by_call)).values_list(
        "call_id", "pk", "name", "opens_on", "closes_on",
    )
    for call_id, pk, name, opens_on, closes_on in rows:
        pks.setdefault((call_id, name, _iso(opens_on), _iso(closes_on)), []).append(pk)
    keys = {}
    for call_id, rounds in rounds_by_call.items():
        matched = []
        for position, round_ in enumerate(rounds):
            same = pks.get((call_id, round_["name"], round_["opens_on"], round_["closes_on"]))
            # No such round: the document drifted from the call's rows (`rebuild_read_model`).
            matched.append(f"round-{same.pop(0)}" if same else f"round-n{position}")
        keys[call_id] = tuple(matched)
    return keys


def stored_calls(calls):
    """A `StoredCall` for each call of `calls` (a queryset carrying `with_status()`), in its order.

    Read in chunks from the read model: per chunk, one query for the documents and the date facts
    (a document missing or stale is rebuilt from its call, as the API's list does), one for the
    periods of calls with several, one for the keys of the rounds: never a query per call.
    """
    facts_at, updated_at = len(representations.ROW), representations.ROW.index("updated_at")
    rows = representations.document_rows(calls.prefetch_related(None), *FACT_COLUMNS).iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(itertools.islice(rows, CHUNK_SIZE)):
        represented = representations.read_representations(chunk, request=None, using=calls.db)
        several = _several_periods([row[0] for row in chunk if (row[facts_at + 1] or 0) > 1], calls.db)
        round_keys = _round_keys(
            {pk: document["rounds"] for pk, document in represented.items() if document["rounds"]}, calls.db,
        )
        for row in chunk:
            if row[0] not in represented:
                continue  # deleted since its row was read
            stored_deadlines, period_count, open_from, open_until, last_opening = row[facts_at:]
            if (period_count or 0) > 1:
                periods = tuple(several.get(row[0], ()))
            else:
                periods = ((open_from, open_until),) if period_count == 1 else ()
            yield StoredCall(
                document=represented[row[0]], updated_at=row[updated_at],
                deadlines=tuple(_day(day) for day in stored_deadlines or ()), periods=periods,
                last_opening=last_opening, round_keys=round_keys.get(row[0], ()),
            )


# -- Writing ---------------------------------------------------------------------------------------

def _event(stored: StoredCall, date: CalendarDate, *, opening, host, build_url, stamp):
    """One all-day event on `date.day`: a deadline (with a reminder) or an opening.

    A date known only to the month or the year stands for the last day of that period (a
    deadline) or its first (an opening), as the registry stores it: the event is on that single
    day and its summary says the date is approximate ("date approximative : mars 2026"), never
    an event spanning the month or the year.
    """
    call, label, day = stored.document, date.label, date.day
    url = build_url(reverse("call-detail", args=[call["slug"]]))
    if opening:
        summary = (_("Opens (%(round)s): %(title)s") % {"round": label, "title": call["title"]} if label
                   else _("Opens: %(title)s") % {"title": call["title"]})
    else:
        summary = (_("Deadline (%(round)s): %(title)s") % {"round": label, "title": call["title"]} if label
                   else _("Deadline: %(title)s") % {"title": call["title"]})
    approximate = _approximate(day, date.precision)
    note = _("approximate date: %(period)s") % {"period": approximate} if approximate else ""
    if note:
        summary = f"{summary} ({note})"
    description = "\n".join(part for part in (note, call["summary"], url) if part)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{call['slug']}-{date.key}@{host}",
        f"DTSTAMP:{stamp}",
        f"LAST-MODIFIED:{_utc(stored.updated_at)}",
        f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
        f"DTEND;VALUE=DATE:{day + datetime.timedelta(days=1):%Y%m%d}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"URL:{url}",
        "TRANSP:TRANSPARENT",
    ]
    if not opening:
        reminder = _("In %(days)d days: %(summary)s") % {"days": REMINDER_DAYS, "summary": summary}
        lines += [
            "BEGIN:VALARM", "ACTION:DISPLAY", f"TRIGGER:-P{REMINDER_DAYS}D",
            f"DESCRIPTION:{escape_text(reminder)}", "END:VALARM",
        ]
    return lines + ["END:VEVENT"]


def _expected_event(call, *, host, build_url, stamp):
    """A tentative all-day event on the first day of the month (or year) a call's next edition is
    expected in: an estimate, said so in its summary, with its basis (`calls.reading.editions`)."""
    estimate = call.expected_edition
    url = build_url(reverse("call-detail", args=[call.slug]))
    summary = _("Next edition expected around %(when)s (estimate): %(title)s") % {
        "when": estimate.month_text, "title": call.title}
    description = "\n".join([_("An estimate: %(basis)s; the funder has not announced it.") % {
        "basis": estimate.basis_text}, url])
    return [
        "BEGIN:VEVENT",
        f"UID:{call.slug}-expected-{estimate.month:%Y%m}@{host}",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{estimate.month:%Y%m%d}",
        f"DTEND;VALUE=DATE:{estimate.month + datetime.timedelta(days=1):%Y%m%d}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"URL:{url}",
        "STATUS:TENTATIVE",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def calendar_of_deadlines(calls, *, name: str, host: str, build_url, from_day=None, expected=()) -> str:
    """A VCALENDAR with all-day VEVENTs for the openings and deadlines of `calls` (a queryset
    carrying `with_status()`), read from the read model (`stored_calls`): those on or after
    `from_day` when given (a subscription to what lies ahead), and a tentative event for each
    call of `expected` (calls with their `expected_edition`, `CallFilterSet.expected_next_editions`)."""
    host = host.split(":")[0] or "localhost"
    stamp = _utc(timezone.now())
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}", "X-WR-TIMEZONE:Europe/Paris",
        "REFRESH-INTERVAL;VALUE=DURATION:PT12H", "X-PUBLISHED-TTL:PT12H",
    ]
    for stored in stored_calls(calls):
        # A date outside the registry's years (stored before they were enforced) is left out:
        # no calendar needs it, and the day after 9999-12-31 does not exist.
        for opening, dates in ((True, openings(stored)), (False, deadlines(stored))):
            for date in dates:
                if is_supported_date(date.day) and (from_day is None or date.day >= from_day):
                    lines += _event(stored, date, opening=opening, host=host, build_url=build_url, stamp=stamp)
    for call in expected:
        lines += _expected_event(call, host=host, build_url=build_url, stamp=stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)

"""The dates of a search as an iCalendar file (RFC 5545): for each call (or each of its rounds),
an opening event and a deadline event, the deadline with a reminder (VALARM) a week before.

A date known only to the month or the year is an all-day event on the day the registry stores
(the period's last day for a deadline, its first for an opening), its summary saying the date is
approximate: never an event spanning a whole month or year that would pass for the deadline.
"""
import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import DatePrecision
from .dates import format_partial_date, is_supported_date

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


def deadlines(call):
    """(uid suffix, round name, date, precision) of each closing date: its rounds', else the call's own."""
    rounds = [r for r in call.rounds.all() if r.closes_on]
    if rounds:
        return [(f"round-{r.pk}", r.name, r.closes_on, r.closes_on_precision) for r in rounds]
    if call.closes_on:
        return [("close", "", call.closes_on, call.closes_on_precision)]
    return []


def openings(call):
    """(uid suffix, round name, date, precision) of each opening date: its rounds', else the call's own."""
    rounds = [r for r in call.rounds.all() if r.opens_on]
    if rounds:
        return [(f"round-{r.pk}-open", r.name, r.opens_on, r.opens_on_precision) for r in rounds]
    if call.opens_on:
        return [("open", "", call.opens_on, call.opens_on_precision)]
    return []


def _event(call, key, label, day, precision, *, opening, host, build_url, stamp):
    """One all-day event on `day`: a deadline (with a reminder) or an opening.

    A date known only to the month or the year stands for the last day of that period (a
    deadline) or its first (an opening), as the registry stores it: the event is on that single
    day and its summary says the date is approximate ("date approximative : mars 2026"), never
    an event spanning the month or the year.
    """
    url = build_url(call.get_absolute_url())
    if opening:
        summary = (_("Opens (%(round)s): %(title)s") % {"round": label, "title": call.title} if label
                   else _("Opens: %(title)s") % {"title": call.title})
    else:
        summary = (_("Deadline (%(round)s): %(title)s") % {"round": label, "title": call.title} if label
                   else _("Deadline: %(title)s") % {"title": call.title})
    approximate = _approximate(day, precision)
    note = _("approximate date: %(period)s") % {"period": approximate} if approximate else ""
    if note:
        summary = f"{summary} ({note})"
    description = "\n".join(part for part in (note, call.summary, url) if part)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{call.slug}-{key}@{host}",
        f"DTSTAMP:{stamp}",
        f"LAST-MODIFIED:{_utc(call.updated_at)}",
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


def calendar_of_deadlines(calls, *, name: str, host: str, build_url) -> str:
    """A VCALENDAR with all-day VEVENTs for the openings and deadlines of `calls` (rounds prefetched)."""
    host = host.split(":")[0] or "localhost"
    stamp = _utc(timezone.now())
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}", "X-WR-TIMEZONE:Europe/Paris",
        "REFRESH-INTERVAL;VALUE=DURATION:PT12H", "X-PUBLISHED-TTL:PT12H",
    ]
    for call in calls:
        # A date outside the registry's years (stored before they were enforced) is left out:
        # no calendar needs it, and the day after 9999-12-31 does not exist.
        for key, label, day, precision in openings(call):
            if is_supported_date(day):
                lines += _event(call, key, label, day, precision, opening=True, host=host, build_url=build_url,
                                stamp=stamp)
        for key, label, day, precision in deadlines(call):
            if is_supported_date(day):
                lines += _event(call, key, label, day, precision, opening=False, host=host, build_url=build_url,
                                stamp=stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)

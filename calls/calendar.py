"""The deadlines of a search as an iCalendar file (RFC 5545), one event per closing date or round.

A closing date known only to the month or the year becomes an all-day event spanning that month
or year, so the calendar never shows a day the sources do not give.
"""
import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import DatePrecision

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


def _span(day: datetime.date, precision: str) -> tuple[datetime.date, datetime.date]:
    """[start, end) of the period a closing date stands for (the date is that period's last day)."""
    if precision == DatePrecision.YEAR:
        return datetime.date(day.year, 1, 1), datetime.date(day.year + 1, 1, 1)
    if precision == DatePrecision.MONTH:
        return day.replace(day=1), day + datetime.timedelta(days=1)
    return day, day + datetime.timedelta(days=1)


def deadlines(call):
    """(uid suffix, label, date, precision) of each closing date: its rounds', else the call's own."""
    rounds = [r for r in call.rounds.all() if r.closes_on]
    if rounds:
        return [(f"round-{r.pk}", r.name, r.closes_on, r.closes_on_precision) for r in rounds]
    if call.closes_on:
        return [("close", "", call.closes_on, call.closes_on_precision)]
    return []


def _event(call, key, label, day, precision, *, host, build_url, stamp):
    start, end = _span(day, precision)
    url = build_url(call.get_absolute_url())
    if label:
        summary = _("Deadline (%(round)s): %(title)s") % {"round": label, "title": call.title}
    else:
        summary = _("Deadline: %(title)s") % {"title": call.title}
    description = "\n".join(part for part in (call.summary, url) if part)
    return [
        "BEGIN:VEVENT",
        f"UID:{call.slug}-{key}@{host}",
        f"DTSTAMP:{stamp}",
        f"LAST-MODIFIED:{_utc(call.updated_at)}",
        f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
        f"DTEND;VALUE=DATE:{end:%Y%m%d}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"URL:{url}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def calendar_of_deadlines(calls, *, name: str, host: str, build_url) -> str:
    """A VCALENDAR with one all-day VEVENT per deadline of `calls` (with rounds prefetched)."""
    host = host.split(":")[0] or "localhost"
    stamp = _utc(timezone.now())
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}", "X-WR-TIMEZONE:Europe/Paris",
        "REFRESH-INTERVAL;VALUE=DURATION:PT12H", "X-PUBLISHED-TTL:PT12H",
    ]
    for call in calls:
        for key, label, day, precision in deadlines(call):
            lines += _event(call, key, label, day, precision, host=host, build_url=build_url, stamp=stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)

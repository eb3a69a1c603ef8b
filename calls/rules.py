"""Rules that span a call and its rows (rounds, ceilings, sources), written once for every writer.

The admin (its form and inlines, before anything is saved), the services (`calls.services`, for the
API, the CSV import, the bundled data's loader and importers) all apply these functions, on the rows
the call has or is about to have:

- **the call's window is derived from its rounds** (`window_covering_rounds`): a call opens no later
  than its first round and closes no earlier than its last one. A round given outside the call's
  dates widens the call's window instead of being refused: the bundled data holds two-stage calls
  (ANR AAPG: pre-proposals close in the autumn, full proposals the next spring) whose last round
  closes after the call's own closing date. An opening after a closing stays refused
  (`DatedWindow.window_errors`, on the call and on each round).
- **publishing needs confirmed figures** (`unconfirmed_copied_figures`): ceilings and sources copied
  from a previous edition are marked "to confirm for this edition"; a call is not published while
  any is left unconfirmed.
- **every figure has its source** (`unsourced_figures`): an amount or date of a published call that
  no source covers is a warning the curator acknowledges (the admin asks; services take
  `unsourced_acknowledged=True`), not a silent save.
"""
import dataclasses
import datetime

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .dates import format_partial_date

# A call's figure -> the word a source's `covers` names it by (docs/data-format.md).
SOURCED_FIGURES = {
    "opens_on": "opens_on", "closes_on": "closes_on", "total_budget_eur": "total_budget_eur",
    "floor_eur": "floor_eur", "funding_rate_min_pct": "funding_rate", "funding_rate_max_pct": "funding_rate",
    "duration_min_months": "duration", "duration_max_months": "duration", "trl_min": "trl", "trl_max": "trl",
    # What a call's time rests on besides its dates: a current page saying it is permanent or
    # recurring (and how often), the page naming its edition's year.
    "recurrence": "recurrence", "editions_per_year": "recurrence", "edition_year": "edition_year",
    # A page saying the scheme stopped or was replaced.
    "discontinued": "discontinued",
}


@dataclasses.dataclass
class CallRows:
    """The rows a call has, or will have once a form or a program has written them."""

    rounds: list = dataclasses.field(default_factory=list)
    ceilings: list = dataclasses.field(default_factory=list)
    sources: list = dataclasses.field(default_factory=list)
    laureates: list = dataclasses.field(default_factory=list)

    @classmethod
    def of(cls, call) -> "CallRows":
        """The rows `call` has in the database (none before it is first saved)."""
        if call.pk is None:
            return cls()
        return cls(
            rounds=list(call.rounds.all()), ceilings=list(call.ceilings.all()),
            sources=list(call.sources.all()), laureates=list(call.laureates.all()),
        )


def window_covering_rounds(window: tuple, rounds) -> tuple:
    """The window `(opens_on, opens_precision, closes_on, closes_precision)` widened to its rounds.

    `rounds` are tuples of the same shape. The earliest opening and the latest closing win, each
    with the precision its source gave; a window with no rounds is returned as it is.
    """
    opens, opens_precision, closes, closes_precision = window
    for round_opens, round_opens_precision, round_closes, round_closes_precision in rounds:
        if round_opens and (opens is None or round_opens < opens):
            opens, opens_precision = round_opens, round_opens_precision
        if round_closes and (closes is None or round_closes > closes):
            closes, closes_precision = round_closes, round_closes_precision
    return opens, opens_precision, closes, closes_precision


def _window(dated) -> tuple:
    return dated.opens_on, dated.opens_on_precision, dated.closes_on, dated.closes_on_precision


def derive_window(call, rounds) -> list[str]:
    """Widen `call`'s dates to cover `rounds` (unsaved); return the names of the fields changed."""
    before = _window(call)
    after = window_covering_rounds(before, [_window(r) for r in rounds])
    names = ["opens_on", "opens_on_precision", "closes_on", "closes_on_precision"]
    changed = [name for name, old, new in zip(names, before, after, strict=True) if old != new]
    for name, value in zip(names, after, strict=True):
        setattr(call, name, value)
    return changed


def _amount(value) -> str:
    return f"{number_format(value, force_grouping=True)} €"


def unconfirmed_copied_figures(rows: CallRows) -> list[str]:
    """The ceilings and sources still marked "to confirm for this edition", named for a message."""
    named = [_("ceiling %(amount)s") % {"amount": _amount(c.amount_eur)} for c in rows.ceilings if c.to_confirm]
    named += [_("source “%(title)s”") % {"title": s.display_title} for s in rows.sources if s.to_confirm]
    return named


def _covered(rows: CallRows) -> set[str]:
    return {word for source in rows.sources for word in source.covered_fields}


def unsourced_figures(call, rows: CallRows) -> list[str]:
    """The call's amounts and dates that no source covers, named for a message (empty: all sourced).

    A date the call takes from its rounds (`derive_window`) is covered by the source of the rounds.
    """
    covered = _covered(rows)
    missing = []
    round_dates = {d for r in rows.rounds for d in (r.opens_on, r.closes_on) if d}
    for name, word in SOURCED_FIGURES.items():
        value = getattr(call, name)
        if value in (None, "", False) or word in covered:
            continue
        if name in ("opens_on", "closes_on") and value in round_dates and "rounds" in covered:
            continue
        missing.append(_describe(call, name, value))
    if any(r.opens_on or r.closes_on or r.budget_eur for r in rows.rounds) and "rounds" not in covered:
        missing.append(_("the rounds"))
    if rows.ceilings and "ceilings" not in covered:
        missing.append(_("the ceilings"))
    if any(lau.amount_eur for lau in rows.laureates) and "laureates" not in covered:
        missing.append(_("the laureates' amounts"))
    return missing


def _describe(call, name, value) -> str:
    label = str(call._meta.get_field(name).verbose_name)
    if isinstance(value, datetime.date):
        shown = format_partial_date(value, getattr(call, f"{name}_precision"))
    elif name.endswith("_eur"):
        shown = _amount(value)
    else:
        shown = str(value)
    return f"{label} ({shown})"

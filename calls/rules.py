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
- **no ceiling below the floor** (`ceilings_below_floor`): a project's ceilings (the call's rows)
  are at least the call's floor per project; the refusal names the floor, where it is entered
  with the call (a CSV row, a submission's field), and each ceiling below it.
- **publishing needs confirmed figures** (`unconfirmed_copied_figures`): ceilings and sources copied
  from a previous edition are marked "to confirm for this edition"; a call is not published while
  any is left unconfirmed.
- **every figure has its source** (`unsourced_figures`): an amount or date of a published call that
  no source covers is a warning the curator acknowledges (the admin asks; services take
  `unsourced_acknowledged=True`), not a silent save. The message (`how_to_cover`) names each
  figure and what to tick in a source's `covers` (`choices.CallCovers`) to cover it.
"""
import dataclasses
import datetime

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from calls.choices import CallCovers
from calls.dates import format_partial_date

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
    """What a call has besides its own fields, as a writer gives it to `services.save_call`: its
    rounds, ceilings, sources and laureates (rows, saved or not), its funders (`CallFunder` rows:
    a funder and its role) and its vocabularies (`codes`: aid forms, beneficiaries, regions and
    themes, by field name). A part left `None` is as the call has it: nothing to write."""

    rounds: list | None = None
    ceilings: list | None = None
    sources: list | None = None
    laureates: list | None = None
    funders: list | None = None
    codes: dict | None = None

    @classmethod
    def of(cls, call) -> "CallRows":
        """The rows `call` has in the database (none before it is first saved)."""
        return cls().completed(call)

    def completed(self, call) -> "CallRows":
        """These rows, each part not given read from what `call` has (what the rules check)."""
        def given_or_stored(name):
            given = getattr(self, name)
            if given is not None:
                return list(given)
            return list(getattr(call, name).all()) if call.pk is not None else []

        return dataclasses.replace(self, **{name: given_or_stored(name) for name in CHECKED_ROWS})


CHECKED_ROWS = ("rounds", "ceilings", "sources", "laureates")


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


def amount(value) -> str:
    """An amount in euros as a curator reads it: `500,000 €` (`500 000 €` in French)."""
    return f"{number_format(value, force_grouping=True)} €"


def ceilings_below_floor(call, rows: CallRows) -> list[str]:
    """The amounts of `rows`' ceilings below `call`'s floor per project, shown for a message (empty:
    none, or no floor given)."""
    if call.floor_eur is None:
        return []
    return [amount(c.amount_eur) for c in rows.ceilings if c.amount_eur is not None and c.amount_eur < call.floor_eur]


def unconfirmed_copied_figures(rows: CallRows) -> list[str]:
    """The ceilings and sources still marked "to confirm for this edition", named for a message."""
    named = [_("ceiling %(amount)s") % {"amount": amount(c.amount_eur)} for c in rows.ceilings if c.to_confirm]
    named += [_("source “%(title)s”") % {"title": s.display_title} for s in rows.sources if s.to_confirm]
    return named


def _covered(rows: CallRows) -> set[str]:
    return {word for source in rows.sources for word in source.covered_fields}


@dataclasses.dataclass(frozen=True)
class Uncovered:
    """A figure of a call no source covers: the word a source's `covers` names it by, and the
    figure shown for a message ("total budget (EUR) (8,000,000 €)")."""

    word: str
    shown: str

    @property
    def label(self) -> str:
        """What a curator ticks in a source's `covers` to cover it."""
        return str(CallCovers(self.word).label)


def unsourced_figures(call, rows: CallRows) -> list[Uncovered]:
    """The call's amounts and dates that no source covers (empty: all sourced).

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
        missing.append(Uncovered(word, _describe(call, name, value)))
    if any(r.opens_on or r.closes_on or r.budget_eur for r in rows.rounds) and "rounds" not in covered:
        missing.append(Uncovered("rounds", _("the rounds")))
    if rows.ceilings and "ceilings" not in covered:
        missing.append(Uncovered("ceilings", _("the ceilings")))
    if any(lau.amount_eur for lau in rows.laureates) and "laureates" not in covered:
        missing.append(Uncovered("laureates", _("the laureates' amounts")))
    return missing


def how_to_cover(figures: list[Uncovered]) -> str:
    """The message naming figures no source covers, and how a curator covers them."""
    ticks = list(dict.fromkeys(figure.label for figure in figures))
    return _(
        "No source covers: %(figures)s. Tick %(ticks)s in the “covers” of the source that gives each figure "
        "(or add that source), or acknowledge that they are published without one."
    ) % {"figures": "; ".join(figure.shown for figure in figures), "ticks": ", ".join(f"“{t}”" for t in ticks)}


def _describe(call, name, value) -> str:
    label = str(call._meta.get_field(name).verbose_name)
    if isinstance(value, datetime.date):
        shown = format_partial_date(value, getattr(call, f"{name}_precision"))
    elif name.endswith("_eur"):
        shown = amount(value)
    else:
        shown = str(value)
    return f"{label} ({shown})"

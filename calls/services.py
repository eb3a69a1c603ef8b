"""The write path: every program and screen that writes a call goes through these functions.

Each is keyword-only, validates with `full_clean()` (the model's rules, as the admin form
applies them) and keeps the call's invariants in the same transaction: a call first published
gets its `published_at`, and the change is recorded in history with who made it and why.
"""
import datetime
import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from calls import fields, rules
from calls.choices import PublicationState
from calls.importing.dumping import call_entry
from calls.matching import FunderIndex, likely_duplicates
from calls.models import Call, CallFunder, Ceiling, Provenance, PublicReport, Source, SourceCheck
from calls.querysets import today
from calls.reading import read_model
from calls.rules import CallRows

PARTNERS_GROUP = "partners"  # may submit calls through the API, as drafts (migration 0007)


@transaction.atomic
def make_partner(*, user):
    """`user` becomes a partner: a member of the `partners` group, with an API token (a token it
    already has is kept). Returns `(token, created)`."""
    user.groups.add(Group.objects.get(name=PARTNERS_GROUP))
    return Token.objects.get_or_create(user=user)


def _record_as(instance, *, actor, reason):
    """Tell django-simple-history who made this change, and why (a program names itself)."""
    if actor is not None and getattr(actor, "is_authenticated", False):
        instance._history_user = actor
    if reason:
        instance._change_reason = reason


def publication_errors(*, call: Call, rows: CallRows, unsourced_acknowledged: bool = False) -> list[str]:
    """Why `call`, with `rows`, may not be saved as published (empty when it may, or is not published).

    Figures copied from the previous edition and not confirmed are refused. Figures no source
    covers are refused unless the curator acknowledged them (`calls.rules`): all of them when the
    call is being published, and, for a call already published, those this save gives or changes
    (an old entry's unsourced figure does not block correcting its title).
    """
    if call.publication_state != PublicationState.PUBLISHED:
        return []
    rows = rows.completed(call)
    errors = []
    if unconfirmed := rules.unconfirmed_copied_figures(rows):
        errors.append(_(
            "Copied from the previous edition and not confirmed for this one: %(figures)s. "
            "Confirm or replace each before publishing."
        ) % {"figures": "; ".join(unconfirmed)})
    unsourced = [] if unsourced_acknowledged else rules.unsourced_figures(call, rows)
    stored = Call.objects.filter(pk=call.pk).first() if unsourced and call.pk else None
    if stored is not None and stored.publication_state == PublicationState.PUBLISHED:
        already = set(rules.unsourced_figures(stored, CallRows.of(stored)))
        unsourced = [figure for figure in unsourced if figure not in already]
    if unsourced:
        errors.append(rules.how_to_cover(unsourced))
    return errors


ROW_KINDS = ("rounds", "ceilings", "sources", "laureates")  # a call's rows, as `CallRows` holds them


def row_message(position: int, field: str | None, message) -> str:
    """A row's error, in the one format of every writer: `#2 closes_on: …`, rows numbered from 1
    (`#2: …` for the row as a whole)."""
    whole_row = not field or field in (NON_FIELD_ERRORS, "non_field_errors")
    return f"#{position}: {message}" if whole_row else f"#{position} {field}: {message}"


def _row_errors(rows: CallRows) -> dict:
    """Each row's own mistakes (`full_clean()`, its call aside), under the rows' name, numbered."""
    errors = {}
    for name in ("funders", *ROW_KINDS):
        for position, row in enumerate(getattr(rows, name) or [], start=1):
            try:
                row.full_clean(exclude=["call"], validate_unique=False)
            except ValidationError as error:
                errors.setdefault(name, []).extend(
                    row_message(position, field, message)
                    for field, messages in error.message_dict.items() for message in messages
                )
    return errors


def validate_call(*, call: Call, rows: CallRows | None = None, unsourced_acknowledged: bool = False) -> CallRows:
    """Check `call` with `rows` (by default, those it has) as one: the one validation of every writer.

    The admin's add and change forms (with their inlines' rows), the CSV import, API submissions,
    the loader, importers and new editions all come here (through `save_call` or directly), so a
    call is refused the same way whoever writes it: the same field, the same message. In order:

    1. the call's dates (an opening after a closing), and each row's own mistakes (a round's
       dates, a ceiling's amount, a source without a title…, named `#2 closes_on: …` under the
       rows' name), before the rounds widen the call's window (`rules.derive_window`);
    2. the call's own fields (`Call.clean` and the fields' validators: amounts not negative, rates,
       TRL, durations, years) and what joins it to its rows (`rules.ceilings_below_floor`);
    3. when the call is published, `publication_errors` (copied figures confirmed, every figure
       covered by a source, or acknowledged), on `publication_state`.

    Raises a `ValidationError` mapping each field to its messages; returns the rows checked.
    """
    rows = (rows or CallRows()).completed(call)
    errors = {name: [message] for name, message in call.window_errors().items()}
    errors.update(_row_errors(rows))
    if errors:
        raise ValidationError(errors)
    rules.derive_window(call, rows.rounds)
    try:
        call.full_clean()
    except ValidationError as error:
        errors = error.message_dict
    if "floor_eur" not in errors and (below := rules.ceilings_below_floor(call, rows)):
        errors["floor_eur"] = [_(
            "The floor per project (%(floor)s) is above a ceiling per project (%(ceilings)s): a project's "
            "ceiling cannot be below its floor. Lower the floor, or correct the ceiling."
        ) % {"floor": rules.amount(call.floor_eur), "ceilings": ", ".join(below)}]
    if not errors:
        errors = {"publication_state": publication_errors(
            call=call, rows=rows, unsourced_acknowledged=unsourced_acknowledged)}
    if any(errors.values()):
        raise ValidationError({name: messages for name, messages in errors.items() if messages})
    return rows


@transaction.atomic
def save_call(
    *, call: Call, rows: CallRows | None = None, actor=None, reason: str = "", unsourced_acknowledged: bool = False,
    changed: bool = True,
) -> Call:
    """Validate and write `call` with its rows: the one way a call is written, whoever writes it.

    Admin forms and their inlines, the CSV import, partners' submissions, the bundled data's
    loader, importers, new editions and visitors' proposals all call this. `rows` are what the call
    has besides its own fields (`CallRows`): each part given replaces what the call has (a part
    left `None` is kept). Everything is checked together before anything is written
    (`validate_call`: a `ValidationError` naming each field; the call's window is widened to its
    rounds). Then the call, its rows and its vocabularies are written, and the
    read model and the registry version follow once, in the same transaction.

    `changed=False` says the caller changes none of the call's own fields (the loader comparing an
    entry with the call, a curator confirming copied figures): the call is read again as stored,
    and saved only if its rows change. Returns the call.
    """
    if not changed and call.pk is not None:
        call.refresh_from_db()  # its own fields as stored: only its rows (and what they derive) change
    given = rows or CallRows()
    rows = given.completed(call)
    if not (changed or call.pk is None or _rows_change(call, given)):
        return call
    validate_call(call=call, rows=rows, unsourced_acknowledged=unsourced_acknowledged)
    if call.publication_state == PublicationState.PUBLISHED:
        call.mark_published()
    _record_as(call, actor=actor, reason=reason)
    call.save()
    _write_rows(call, given, actor=actor, reason=reason)
    read_model.refresh(call_ids=[call.pk])
    return call


# A call's rows: the relation each part of `CallRows` is written to, and the fields two rows are
# compared on (a writer giving the same rows again writes nothing).
ROW_PARTS = {
    "funders": ("funder_roles", ["funder", "role"]),
    "rounds": ("rounds", ["name", "opens_on", "opens_on_precision", "closes_on", "closes_on_precision", "budget_eur"]),
    "ceilings": ("ceilings", ["amount_eur", "condition"]),
    "sources": ("sources", ["document", "title", "url", "locator", "accessed_on", "covers"]),
    "laureates": ("laureates", ["organisation", "project", "amount_eur", "region", "year"]),
}


def _row_key(row, compared):
    return tuple(repr(getattr(row, row._meta.get_field(name).attname)) for name in compared)


def _own_values(row):
    return [getattr(row, field.attname) for field in row._meta.concrete_fields if not field.primary_key]


def _part_changes(call, part, wanted) -> bool:
    relation, compared = ROW_PARTS[part]
    if call.pk is None:
        return bool(wanted)
    current = {row.pk: row for row in getattr(call, relation).all()}
    if sorted(_row_key(row, compared) for row in current.values()) != sorted(_row_key(row, compared) for row in wanted):
        return True
    # The same rows compared on their facts; a row edited in a form may differ elsewhere (a flag).
    return any(row.pk in current and _own_values(row) != _own_values(current[row.pk]) for row in wanted)


def _codes_change(call, codes) -> bool:
    return any(
        call.pk is None and terms or call.pk is not None
        and {term.pk for term in getattr(call, name).all()} != {term.pk for term in terms}
        for name, terms in codes.items()
    )


def _rows_change(call, rows: CallRows) -> bool:
    """Whether writing `rows` changes what `call` has."""
    return any(
        _part_changes(call, part, getattr(rows, part)) for part in ROW_PARTS if getattr(rows, part) is not None
    ) or (rows.codes is not None and _codes_change(call, rows.codes))


def _write_rows(call, rows: CallRows, *, actor, reason) -> None:
    """Make the call's rows and vocabularies those given (parts left `None` are kept): rows no longer
    given are deleted, given ones saved when new or changed."""
    for part, (relation, _compared) in ROW_PARTS.items():
        wanted = getattr(rows, part)
        if wanted is None or not _part_changes(call, part, wanted):
            continue
        manager = getattr(call, relation)
        kept = {row.pk for row in wanted if row.pk is not None}
        current = {row.pk: row for row in manager.all()}
        for pk, row in current.items():
            if pk not in kept:
                _record_as(row, actor=actor, reason=reason)
                row.delete()
        for row in wanted:
            if row.pk is not None and row.pk in current and _own_values(row) == _own_values(current[row.pk]):
                continue
            setattr(row, Call._meta.get_field(relation).field.name, call)
            _record_as(row, actor=actor, reason=reason)
            row.save()
    for name, terms in (rows.codes or {}).items():
        if {term.pk for term in getattr(call, name).all()} != {term.pk for term in terms}:
            getattr(call, name).set(terms)


@transaction.atomic
def save_reference(*, instance, actor=None, reason: str = ""):
    """Validate and save a funder, programme, theme or document, and refresh the calls that embed it."""
    instance.full_clean()
    _record_as(instance, actor=actor, reason=reason)
    instance.save()
    read_model.refresh(call_ids=read_model.calls_embedding(instance), public=True)
    return instance


@transaction.atomic
def delete_reference(*, instance) -> None:
    """Delete an unused funder, programme, theme or document (a used one is protected)."""
    call_ids = read_model.calls_embedding(instance)
    instance.delete()
    read_model.refresh(call_ids=call_ids, public=True)


@transaction.atomic
def set_publication_state(
    *, call: Call, state: str, actor=None, reason: str = "", unsourced_acknowledged: bool = False,
) -> bool:
    """Publish, archive or return a call to draft; says whether anything changed.

    Publishing is refused (`ValidationError`) while `publication_errors` names anything.
    """
    if call.publication_state == state:
        return False
    call.publication_state = state
    save_call(call=call, actor=actor, reason=reason, unsourced_acknowledged=unsourced_acknowledged)
    return True


@transaction.atomic
def mark_verified(*, call: Call, on: datetime.date, actor=None) -> Call:
    """Record that a curator checked the call's facts against its sources on `on`.

    A published call's figures must then be covered by its sources (`publication_errors`).
    """
    call.last_verified_on = on
    save_call(call=call, actor=actor, reason="verified against its sources")
    return call


@transaction.atomic
def record_source_check(
    *, url: str, checked_at, status_code: int | None, error: str = "", final_url: str = "", fingerprint: str = "",
) -> SourceCheck:
    """Record what a visit of a cited page found (`calls.importing.source_checks`): one row per page, its last visit.

    A visit that read the page and found a fingerprint other than the one before marks the page
    changed that day (`changed_on`, with the fingerprint it had). A visit that read nothing (an
    error, a 404) keeps the last fingerprint, so a passing failure is not taken for a change.
    """
    check = SourceCheck.objects.select_for_update().filter(url=url).first() or SourceCheck(url=url)
    if fingerprint and check.fingerprint and fingerprint != check.fingerprint:
        check.previous_fingerprint, check.changed_on = check.fingerprint, checked_at.date()
    check.checked_at, check.status_code, check.error = checked_at, status_code, error[:300]
    check.final_url = final_url[:2000]
    check.fingerprint = fingerprint or check.fingerprint
    check.full_clean()
    check.save()
    return check


@transaction.atomic
def confirm_copied_figures(*, call: Call, actor=None) -> int:
    """Confirm every ceiling and source of `call` still marked "to confirm"; returns how many."""
    rows = CallRows(ceilings=list(call.ceilings.all()), sources=list(call.sources.all()))
    confirmed = [row for row in [*rows.ceilings, *rows.sources] if row.to_confirm]
    for row in confirmed:
        row.to_confirm = False
    save_call(call=call, rows=rows, actor=actor, reason="confirmed for this edition", changed=False)
    return len(confirmed)


def free_slug(text: str, *, fallback: str = "appel") -> str:
    """A slug for a new call, made from `text` (a title, a slug) and not taken yet: "text", else
    "text-2", "text-3"… (`fallback` when `text` gives none). The one slug allocator of every
    writer (new editions, partners' submissions, visitors' proposals, importers); a concurrent
    writer may still take it first, which the unique index refuses."""
    base = slugify(text)[:140].strip("-") or slugify(fallback)[:140].strip("-") or "appel"
    slug, n = base, 2
    while Call.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _edition_label(call: Call) -> str:
    """What names the next edition of `call`: the year after the one it names or opened in.

    "AAP Bioproduction 2026" -> "2027"; a title without a year takes the year after its opening
    (or after today's, when the call has no date).
    """
    years = re.findall(r"(?<!\d)(19[9]\d|20\d\d)(?!\d)", call.title)
    if years:
        return str(int(years[-1]) + 1)
    known = call.opens_on or call.closes_on
    return str((known or today()).year + 1)


def next_edition_title_and_slug(call: Call) -> tuple[str, str]:
    """The next edition's own title and slug: the year replaced or added, never `-nouvelle-edition`.

    "AAP Bioproduction 2026" (aap-bioproduction-2026) -> "AAP Bioproduction 2027"
    (aap-bioproduction-2027); "i-Nov" -> "i-Nov 2027" (i-nov-2027); a slug taken gets `-2`.
    """
    label = _edition_label(call)
    previous = str(int(label) - 1)
    pattern = rf"(?<!\d){previous}(?!\d)"
    if re.search(pattern, call.title):
        title = re.sub(pattern, label, call.title)
    else:
        title = f"{call.title} {label}"
    if re.search(pattern, call.slug):
        base = re.sub(pattern, label, call.slug)
    else:
        base = f"{call.slug}-{label}"
    return title[:300], free_slug(base)


@transaction.atomic
def create_new_edition(*, call: Call, actor=None) -> Call:
    """Copy `call` as a draft linked to it as its previous edition.

    What recurs from one edition to the next is copied (funders and their roles, eligibility,
    ceilings, themes, and the sources those facts come from); dates, rounds, laureates and
    verification are not: they belong to one edition and a curator fills them in anew. The
    edition gets its own title and slug (`next_edition_title_and_slug`), and its copied ceilings
    and sources are marked "to confirm for this edition": it cannot be published until a
    curator confirms or replaces each (`publication_errors`).
    """
    if hasattr(call, "next_edition"):
        raise ValueError(f"{call} already has a next edition: {call.next_edition}")
    copied_fields = fields.names(recurs=True, kind="value")
    title, slug = next_edition_title_and_slug(call)
    edition = Call(
        **{field: getattr(call, field) for field in copied_fields},
        title=title,
        slug=slug,
        previous_edition=call,
        publication_state=PublicationState.DRAFT,
    )
    save_call(call=edition, actor=actor, reason="new edition", rows=CallRows(
        funders=[CallFunder(funder=role.funder, role=role.role) for role in call.funder_roles.all()],
        ceilings=[
            Ceiling(amount_eur=ceiling.amount_eur, condition=ceiling.condition, to_confirm=True)
            for ceiling in call.ceilings.all()
        ],
        sources=[
            Source(document=source.document, title=source.title, url=source.url, locator=source.locator,
                   accessed_on=source.accessed_on, covers=source.covers, to_confirm=True)
            for source in call.sources.all()
        ],
        codes={name: list(getattr(call, name).all()) for name in fields.names(kind="codes")},
    ))
    return edition


# --- Likely duplicates of what arrives ---------------------------------------------------------------

SUBMISSIONS_ORIGIN = "partner-submission"  # a partner's call handed in through the API
SUGGESTIONS_ORIGIN = "public-suggestion"  # a visitor's proposed call


@transaction.atomic
def flag_likely_duplicates(*, call: Call, funders, origin: str) -> list[str]:
    """Flag a call that has just arrived when it looks like an entry of the registry, as importers
    flag their drafts: the rule is theirs (`calls.matching.likely_duplicates`: a shared funder, the
    same dates, a close title), and the flags go the same place, a `duplicate` flag naming each
    entry on the call's provenance for `origin` (its id there: the call's), which the admin's
    *To review* list and the index's count read. A call like nothing gets no provenance. Says the
    slugs flagged."""
    slugs = [other.slug for other in likely_duplicates(call, list(funders))]
    if not slugs:
        return []
    provenance, _created = Provenance.objects.get_or_create(
        origin=origin, content_type=ContentType.objects.get_for_model(Call), external_id=str(call.pk),
        defaults={"object_id": call.pk, "baseline": call_entry(call)},  # the call as it arrived
    )
    provenance.flags = [flag for flag in provenance.flags if flag.get("code") != "duplicate"] + [
        {"code": "duplicate", "value": slug} for slug in slugs]
    provenance.full_clean()
    provenance.save(update_fields=["flags"])
    return slugs


@transaction.atomic
def dismiss_duplicate_flags(*, call: Call) -> int:
    """A curator checked a partner's submission or a visitor's proposal flagged as a likely duplicate
    and found it is not one: its `duplicate` flags are dropped, and it leaves the *To review* list
    (an importer's flags are the importer's: its next run says again what it finds). Says how many."""
    dropped = 0
    for provenance in Provenance.objects.filter(
        origin__in=[SUBMISSIONS_ORIGIN, SUGGESTIONS_ORIGIN], content_type=ContentType.objects.get_for_model(Call),
        object_id=call.pk,
    ):
        kept = [flag for flag in provenance.flags if flag.get("code") != "duplicate"]
        dropped += len(provenance.flags) - len(kept)
        if kept != provenance.flags:
            provenance.flags = kept
            provenance.save(update_fields=["flags"])
    return dropped


# --- Visitors' reports and proposals (no account) -----------------------------------------------------

PUBLIC_SUGGESTIONS_USER = "public-suggestions"


def public_suggestions_user():
    """The system user visitors' proposed calls are submitted by: inactive, no password, not staff."""
    user, created = get_user_model().objects.get_or_create(
        username=PUBLIC_SUGGESTIONS_USER, defaults={"is_active": False, "is_staff": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get_or_create(name=PUBLIC_SUGGESTIONS_USER)[0])
    return user


@transaction.atomic
def report_error(*, call: Call, message: str, contact_email: str = "") -> PublicReport:
    """A visitor reports an error on `call`'s page: a report for curators to handle."""
    report = PublicReport(kind=PublicReport.Kind.ERROR, call=call, message=message, contact_email=contact_email)
    report.full_clean()
    report.save()
    return report


def _funders_named(name: str) -> list:
    """The registry's funder a visitor names ("Name", "ACRONYM", "Name (ACRONYM)"), as importers find them."""
    funder = FunderIndex().find(name) if name else None
    return [funder] if funder else []


@transaction.atomic
def suggest_call(
    *, title: str, url: str, funder_name: str = "", closes_on: datetime.date | None = None, message: str = "",
    contact_email: str = "",
) -> PublicReport:
    """A visitor proposes a call: it becomes a draft (submitted by the `public-suggestions` user,
    the page given as its source, what the visitor said in the curator note) and a report for
    curators to handle. Nothing is published: a curator checks, completes and publishes it."""
    user = public_suggestions_user()
    note = [_("Proposed by a visitor."), f"{_('Funder')}: {funder_name}" if funder_name else "",
            f"{_('Message')}: {message}" if message else "",
            f"{_('Contact')}: {contact_email}" if contact_email else ""]
    call = Call(
        title=title, slug=free_slug(title, fallback="appel-propose"), call_type="call_for_projects",
        closes_on=closes_on, publication_state=PublicationState.DRAFT, submitted_by=user,
        curator_note="\n".join(line for line in note if line),
    )
    source = Source(title=_("Page given by the visitor who proposed the call"), url=url)
    save_call(call=call, rows=CallRows(sources=[source]), reason="proposed by a visitor")
    flag_likely_duplicates(call=call, funders=_funders_named(funder_name), origin=SUGGESTIONS_ORIGIN)
    report = PublicReport(kind=PublicReport.Kind.SUGGESTION, suggested_call=call, message=message,
                          contact_email=contact_email)
    report.full_clean()
    report.save()
    return report


@transaction.atomic
def handle_public_report(*, report: PublicReport, actor, when=None) -> bool:
    """A curator has dealt with a visitor's report (corrected the call, published or archived the
    draft…): it leaves the list of reports to handle. Says whether anything changed."""
    if report.handled_at is not None:
        return False
    report.handled_at, report.handled_by = when or timezone.now(), actor
    report.full_clean()
    report.save(update_fields=["handled_at", "handled_by"])
    return True

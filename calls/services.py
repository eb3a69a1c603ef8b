"""The write path: every program and screen that writes a call goes through these functions.

Each is keyword-only, validates with `full_clean()` (the model's rules, as the admin form
applies them) and keeps the call's invariants in the same transaction: a call first published
gets its `published_at`, and the change is recorded in history with who made it and why.
"""
import datetime
import re

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from . import fields, read_model, rules
from .choices import PublicationState
from .models import Call, Ceiling, PublicReport, Source, SourceCheck
from .querysets import today
from .rules import CallRows

PARTNERS_GROUP = "partners"  # may submit calls through the API, as drafts (migration 0007)


@transaction.atomic
def make_partner(*, user):
    """`user` becomes a partner: a member of the `partners` group, with an API token (a token it
    already has is kept). Returns `(token, created)`."""
    from rest_framework.authtoken.models import Token

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
    from django.core.exceptions import NON_FIELD_ERRORS

    whole_row = not field or field in (NON_FIELD_ERRORS, "non_field_errors")
    return f"#{position}: {message}" if whole_row else f"#{position} {field}: {message}"


def _row_errors(rows: CallRows) -> dict:
    """Each row's own mistakes (`full_clean()`, its call aside), under the rows' name, numbered."""
    errors = {}
    for name in ROW_KINDS:
        for position, row in enumerate(getattr(rows, name), start=1):
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
    rows = rows if rows is not None else CallRows.of(call)
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
    *, call: Call, actor=None, reason: str = "", rows: CallRows | None = None, unsourced_acknowledged: bool = False,
) -> Call:
    """Validate and save `call`: the one way a call is written, whoever writes it.

    Admin form, CSV import, API submission, the bundled data's loader and importers all call
    this (the loader through `save_call_and_rows`), so a call published by any of them gets its
    first-publication date the same way. `rows` are the rounds, ceilings, sources and laureates
    the call will have once the caller has written them (the admin's inlines, the loader's
    entry); by default, those it has now. The call and its rows are checked by `validate_call`
    (a `ValidationError` naming each field), and the call's window is widened to its rounds.
    """
    _checked_save(call=call, actor=actor, reason=reason, rows=rows, unsourced_acknowledged=unsourced_acknowledged)
    read_model.refresh(call_ids=[call.pk])
    return call


def _checked_save(*, call, actor, reason, rows, unsourced_acknowledged):
    """`save_call` less the read model's refresh, which its callers do once for all they write."""
    validate_call(call=call, rows=rows, unsourced_acknowledged=unsourced_acknowledged)
    if call.publication_state == PublicationState.PUBLISHED:
        call.mark_published()
    _record_as(call, actor=actor, reason=reason)
    call.save()


@transaction.atomic
def save_call_and_rows(
    *, call: Call, write_rows, save: bool = True, actor=None, reason: str = "", rows: CallRows | None = None,
    unsourced_acknowledged: bool = False,
) -> bool:
    """Write a call and its rows as one change (the loader's and the importers' entries): with
    `save` (the call is new, or its own fields changed), validate and save it as `save_call`
    does, `rows` being those `write_rows` will write; then `write_rows(call)` writes its rows
    (funders, rounds, ceilings, sources, laureates, vocabularies) and says whether any changed;
    a call whose rows alone changed is then checked with them (`validate_call`) and gets a new
    `updated_at` (partners sync on it). The read model and the registry version follow once, in
    the same transaction, when anything was written; returns whether anything was."""
    if save:
        _checked_save(call=call, actor=actor, reason=reason, rows=rows, unsourced_acknowledged=unsourced_acknowledged)
    rows_changed = write_rows(call)
    if rows_changed and not save:  # the call as stored, with its new rows: checked as one all the same
        validate_call(call=call, unsourced_acknowledged=unsourced_acknowledged)
        call.save(update_fields=["updated_at"])
    if save or rows_changed:
        read_model.refresh(call_ids=[call.pk])
    return save or rows_changed


@transaction.atomic
def rows_written(*, call: Call) -> None:
    """After a writer saved `call` (`save_call`) and then wrote its rows (rounds, funders, themes…):
    bring the read model and the registry version up to date, in the same transaction."""
    read_model.refresh(call_ids=[call.pk])


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
    return save_call(call=call, actor=actor, reason="verified against its sources")


@transaction.atomic
def record_source_check(
    *, url: str, checked_at, status_code: int | None, error: str = "", final_url: str = "", fingerprint: str = "",
) -> SourceCheck:
    """Record what a visit of a cited page found (`calls.source_checks`): one row per page, its last visit.

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
    count = 0
    for row in [*call.ceilings.filter(to_confirm=True), *call.sources.filter(to_confirm=True)]:
        row.to_confirm = False
        _record_as(row, actor=actor, reason="confirmed for this edition")
        row.full_clean()
        row.save()
        count += 1
    read_model.refresh(call_ids=[call.pk])
    return count


def _free_slug(base: str) -> str:
    slug, n = base[:140], 2
    while Call.objects.filter(slug=slug).exists():
        slug, n = f"{base[:140]}-{n}", n + 1
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
    return title[:300], _free_slug(slugify(base) or base)


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
    rows = CallRows(
        ceilings=[Ceiling(amount_eur=c.amount_eur, condition=c.condition, to_confirm=True)
                  for c in call.ceilings.all()],
        sources=[
            Source(document=s.document, title=s.title, url=s.url, locator=s.locator, accessed_on=s.accessed_on,
                   covers=s.covers, to_confirm=True)
            for s in call.sources.all()
        ],
    )
    validate_call(call=edition, rows=rows)
    _record_as(edition, actor=actor, reason="new edition")
    edition.save()
    for role in call.funder_roles.all():
        edition.funder_roles.create(funder=role.funder, role=role.role)
    for row in [*rows.ceilings, *rows.sources]:
        row.call = edition
        row.save()
    edition.aid_forms.set(call.aid_forms.all())
    edition.beneficiaries.set(call.beneficiaries.all())
    edition.regions.set(call.regions.all())
    edition.themes.set(call.themes.all())
    read_model.refresh(call_ids=[edition.pk])
    return edition


# --- Likely duplicates of what arrives ---------------------------------------------------------------

SUBMISSIONS_ORIGIN = "partner-submission"  # a partner's call handed in through the API
SUGGESTIONS_ORIGIN = "public-suggestion"  # a visitor's proposed call


@transaction.atomic
def flag_likely_duplicates(*, call: Call, funders, origin: str) -> list[str]:
    """Flag a call that has just arrived when it looks like an entry of the registry, as importers
    flag their drafts: the rule is theirs (`importers.base.likely_duplicates`: a shared funder, the
    same dates, a close title), and the flags go the same place, a `duplicate` flag naming each
    entry on the call's provenance for `origin` (its id there: the call's), which the admin's
    *To review* list and the index's count read. A call like nothing gets no provenance. Says the
    slugs flagged."""
    from django.contrib.contenttypes.models import ContentType

    from .dumping import call_entry
    from .importers.base import likely_duplicates
    from .models import Provenance

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
    from django.contrib.contenttypes.models import ContentType

    from .models import Provenance

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
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

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
    from .importers.base import FunderIndex

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
        title=title, slug=_free_slug(slugify(title)[:140] or "appel-propose"), call_type="call_for_projects",
        closes_on=closes_on, publication_state=PublicationState.DRAFT, submitted_by=user,
        curator_note="\n".join(line for line in note if line),
    )
    save_call(call=call, reason="proposed by a visitor")
    source = Source(call=call, title=_("Page given by the visitor who proposed the call"), url=url)
    source.full_clean()
    source.save()
    rows_written(call=call)
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
    from django.utils import timezone

    if report.handled_at is not None:
        return False
    report.handled_at, report.handled_by = when or timezone.now(), actor
    report.full_clean()
    report.save(update_fields=["handled_at", "handled_by"])
    return True

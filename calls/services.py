"""The write path: every program and screen that writes a call goes through these functions.

Each is keyword-only, validates with `full_clean()` (the model's rules, as the admin form
applies them) and keeps the call's invariants in the same transaction: a call first published
gets its `published_at`, and the change is recorded in history with who made it and why.
"""
import datetime

from django.db import transaction

from .choices import PublicationState
from .models import Call


def _record_as(instance, *, actor, reason):
    """Tell django-simple-history who made this change, and why (a program names itself)."""
    if actor is not None and getattr(actor, "is_authenticated", False):
        instance._history_user = actor
    if reason:
        instance._change_reason = reason


@transaction.atomic
def save_call(*, call: Call, actor=None, reason: str = "") -> Call:
    """Validate and save `call`: the one way a call is written, whoever writes it.

    Admin form, CSV import, API submission, the bundled data's loader and importers all call
    this, so a call published by any of them gets its first-publication date the same way.
    """
    call.full_clean()
    if call.publication_state == PublicationState.PUBLISHED:
        call.mark_published()
    _record_as(call, actor=actor, reason=reason)
    call.save()
    return call


@transaction.atomic
def set_publication_state(*, call: Call, state: str, actor=None, reason: str = "") -> bool:
    """Publish, archive or return a call to draft; says whether anything changed."""
    if call.publication_state == state:
        return False
    call.publication_state = state
    save_call(call=call, actor=actor, reason=reason)
    return True


@transaction.atomic
def mark_verified(*, call: Call, on: datetime.date, actor=None) -> Call:
    """Record that a curator checked the call's facts against its sources on `on`."""
    call.last_verified_on = on
    return save_call(call=call, actor=actor, reason="verified against its sources")


def _free_slug(base: str) -> str:
    slug, n = base[:140], 2
    while Call.objects.filter(slug=slug).exists():
        slug, n = f"{base[:140]}-{n}", n + 1
    return slug


@transaction.atomic
def create_new_edition(*, call: Call) -> Call:
    """Copy `call` as a draft linked to it as its previous edition.

    What recurs from one edition to the next is copied (funders and their roles, eligibility,
    ceilings, themes, and the sources those facts come from); dates, rounds, laureates and
    verification are not: they belong to one edition and a curator fills them in anew.
    """
    if hasattr(call, "next_edition"):
        raise ValueError(f"{call} already has a next edition: {call.next_edition}")
    copied_fields = [
        "title", "summary", "description", "call_type", "programme", "is_rolling", "floor_eur",
        "funding_rate_min_pct", "funding_rate_max_pct", "duration_min_months", "duration_max_months",
        "scope", "consortium_required", "trl_min", "trl_max", "eligibility", "eligible_expenses",
        "apply_url",
    ]
    edition = Call(
        **{field: getattr(call, field) for field in copied_fields},
        slug=_free_slug(f"{call.slug}-nouvelle-edition"),
        previous_edition=call,
        publication_state=PublicationState.DRAFT,
    )
    edition.full_clean()
    edition.save()
    for role in call.funder_roles.all():
        edition.funder_roles.create(funder=role.funder, role=role.role)
    for ceiling in call.ceilings.all():
        edition.ceilings.create(amount_eur=ceiling.amount_eur, condition=ceiling.condition)
    for source in call.sources.all():
        edition.sources.create(
            document=source.document, title=source.title, url=source.url, locator=source.locator,
            accessed_on=source.accessed_on, covers=source.covers,
        )
    edition.aid_forms.set(call.aid_forms.all())
    edition.beneficiaries.set(call.beneficiaries.all())
    edition.regions.set(call.regions.all())
    edition.themes.set(call.themes.all())
    return edition

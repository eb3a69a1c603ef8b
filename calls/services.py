"""Writes that touch several models: a new edition of a call, loading the bundled data."""
from django.db import transaction

from .choices import PublicationState
from .models import Call


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

"""Factories with fixed values for what tests depend on (dates, states)."""
import contextlib
import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from calls import models
from calls.choices import CallType, FunderKind, FunderRole, PublicationState, Scope
from calls.reading import read_model

# A fixed 'today' for status tests: they pass it to the queryset and to status_on().
TODAY = datetime.date(2026, 6, 15)
PUBLISHED_AT = datetime.datetime(2026, 5, 1, 9, 0, tzinfo=datetime.UTC)


# The calls written by factories inside a `one_refresh()` block (None outside one).
_written_in_block: set[int] | None = None


@contextlib.contextmanager
def one_refresh():
    """Factories inside the block write calls and rows without refreshing the read model; it is
    brought up to date once at the end, for every call they wrote, as the services do once per
    write. For tests and fixtures that write many calls (a refresh per row costs milliseconds).
    A block inside another is part of it: the outermost refreshes."""
    global _written_in_block
    if _written_in_block is not None:
        yield
        return
    _written_in_block = written = set()
    try:
        yield
    finally:
        _written_in_block = None
    if written:
        read_model.refresh(call_ids=sorted(written))


def refresh_read_model(*, call_id):
    """Bring a call's read model up to date: now, or at the end of the enclosing `one_refresh()`."""
    if _written_in_block is not None:
        _written_in_block.add(call_id)
    else:
        read_model.refresh(call_ids=[call_id])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class CuratorFactory(UserFactory):
    class Meta:
        skip_postgeneration_save = True  # the hook only adds a group

    username = factory.Sequence(lambda n: f"curator{n}")
    is_staff = True

    @factory.post_generation
    def in_curators_group(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get(name="curators"))


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Theme
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"theme-{n}")
    name = factory.Sequence(lambda n: f"Thème {n}")
    name_en = factory.Sequence(lambda n: f"Theme {n}")


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Document

    key = factory.Sequence(lambda n: f"doc-{n}")
    title = factory.Sequence(lambda n: f"Rapport {n}")


class FunderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Funder

    name = factory.Sequence(lambda n: f"Financeur {n}")
    slug = factory.Sequence(lambda n: f"financeur-{n}")
    kind = FunderKind.STATE_AGENCY


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Programme

    name = factory.Sequence(lambda n: f"Programme {n}")
    slug = factory.Sequence(lambda n: f"programme-{n}")


class CallFactory(factory.django.DjangoModelFactory):
    """A published national call for projects, open on TODAY (opened 2026-05-01, closes 2026-07-31)."""

    class Meta:
        model = models.Call

    title = factory.Sequence(lambda n: f"Appel à projets {n}")
    slug = factory.Sequence(lambda n: f"appel-{n}")
    summary = "Soutenir la bioproduction de biomédicaments."
    call_type = CallType.CALL_FOR_PROJECTS
    opens_on = datetime.date(2026, 5, 1)
    closes_on = datetime.date(2026, 7, 31)
    scope = Scope.NATIONAL
    publication_state = PublicationState.PUBLISHED
    published_at = factory.LazyAttribute(
        lambda call: PUBLISHED_AT if call.publication_state == PublicationState.PUBLISHED else None
    )
    last_verified_on = datetime.date(2026, 6, 1)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        # The read model is kept by the write path; a factory writes rows directly, so it
        # brings the call's read model up to date as the services would.
        super()._after_postgeneration(instance, create, results)
        if create:
            refresh_read_model(call_id=instance.pk)


class CallRowFactory(factory.django.DjangoModelFactory):
    """A row of a call (funder's role, round, ceiling, source, laureate): its call's read model follows."""

    class Meta:
        abstract = True

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        super()._after_postgeneration(instance, create, results)
        if create and instance.call_id:
            refresh_read_model(call_id=instance.call_id)


class CallFunderFactory(CallRowFactory):
    class Meta:
        model = models.CallFunder

    call = factory.SubFactory(CallFactory)
    funder = factory.SubFactory(FunderFactory)
    role = FunderRole.FUNDER


class RoundFactory(CallRowFactory):
    class Meta:
        model = models.Round

    call = factory.SubFactory(CallFactory, opens_on=None, closes_on=None)
    name = factory.Sequence(lambda n: f"Vague {n}")
    opens_on = datetime.date(2026, 5, 1)
    closes_on = datetime.date(2026, 7, 31)


class CeilingFactory(CallRowFactory):
    class Meta:
        model = models.Ceiling

    call = factory.SubFactory(CallFactory)
    amount_eur = 1_000_000
    condition = ""


class SourceFactory(CallRowFactory):
    class Meta:
        model = models.Source

    call = factory.SubFactory(CallFactory)
    document = factory.SubFactory(DocumentFactory)
    locator = "§1"
    covers = "opens_on, closes_on"


class LaureateFactory(CallRowFactory):
    class Meta:
        model = models.Laureate

    call = factory.SubFactory(CallFactory)
    organisation = factory.Sequence(lambda n: f"Lauréat {n}")
    year = 2022

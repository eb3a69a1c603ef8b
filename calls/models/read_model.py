"""The read model: what the public surfaces read, kept by the write path (`calls.read_model`).

Every call has one `CallIndex` row, rebuilt from the call, its rows and what it embeds (funders,
programmes, themes) whenever one of them is written through `calls.services`. It holds only facts
that don't change with today's date: the date facts (`calls.date_facts`) the status follows from,
the facet values, the highest ceiling, the search document. `manage.py rebuild_read_model`
rebuilds it from scratch and reports any drift.
"""
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _


class RegistryVersion(models.Model):
    """One row: a counter moved, in the same transaction, by every write a reader could see.

    Caches (facet counts, exports) and the API's ETags key on it instead of scanning the calls.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    number = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)
    # The `calls.read_model.FORMAT` its rows were written in: a start with newer code rebuilds them.
    read_model_format = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("registry version")

    def __str__(self):
        return str(self.number)


class CallIndex(models.Model):
    """A call as the public surfaces read it: stored facts, none of which depends on today."""

    call = models.OneToOneField("calls.Call", primary_key=True, on_delete=models.CASCADE, related_name="index")
    # Date facts (calls.date_facts): EARLIEST / LATEST stand for "always" / "no end".
    open_from = models.DateField()
    open_until = models.DateField(db_index=True)
    period_count = models.PositiveSmallIntegerField(default=0)
    last_opening = models.DateField(null=True, db_index=True)
    dates_unknown = models.BooleanField(default=False)
    edition_year = models.PositiveSmallIntegerField(null=True)  # of an edition whose dates are unknown
    # Of an edition whose dates are unknown: the day its published next edition had surely opened by.
    succeeded_on = models.DateField(null=True)
    deadlines = models.JSONField(default=list)
    max_ceiling_eur = models.BigIntegerField(null=True)
    # Eligibility read as an applicant reads it (facet rows hold the rest, see `CallFacet`).
    for_applicants_in_france = models.BooleanField(default=True)  # not a foreign scheme kept as a reference
    open_to_every_region = models.BooleanField(default=False)
    names_no_beneficiary = models.BooleanField(default=False)
    # The search document: a weighted tsvector on PostgreSQL (GIN-indexed by a migration); on
    # SQLite, the same texts lower-cased and unaccented.
    search_vector = SearchVectorField(null=True)
    search_title = models.TextField(blank=True)
    search_text = models.TextField(blank=True)
    # The call's API representation, less what depends on today or on the request.
    document = models.JSONField(null=True)

    class Meta:
        verbose_name = _("call index")

    def __str__(self):
        return f"index of call {self.call_id}"


class CallPeriod(models.Model):
    """One open period of a call (its `CallIndex`): read only for calls with several."""

    call_index = models.ForeignKey(CallIndex, on_delete=models.CASCADE, related_name="periods")
    starts_on = models.DateField()
    ends_on = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["call_index", "ends_on", "starts_on"])]

    def __str__(self):
        return f"{self.starts_on} – {self.ends_on}"


class CallFacet(models.Model):
    """One value a call is found by under one facet: its themes, funders, funders' kinds, aid
    forms, programmes (and their parents), the beneficiaries it names, the regions it is
    restricted to. The search's filters and the facets' counts read the same rows, so a count
    shown is the number of results its link gives."""

    call_index = models.ForeignKey(CallIndex, on_delete=models.CASCADE, related_name="facet_values")
    facet = models.CharField(max_length=20)
    value = models.CharField(max_length=150)

    class Meta:
        indexes = [models.Index(fields=["facet", "value", "call_index"])]
        constraints = [
            models.UniqueConstraint(fields=["call_index", "facet", "value"], name="calls_callfacet_once"),
        ]

    def __str__(self):
        return f"{self.facet}={self.value}"

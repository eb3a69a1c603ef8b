"""Calls for funding, and what hangs off a call: funders' roles, rounds, ceilings, sources, laureates."""
import dataclasses
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..choices import ApplyUrlKind, CallType, FunderRole, PublicationState, Recurrence, Scope, Status
from ..date_facts import facts_of_call
from ..dates import validate_supported_date, validate_supported_year
from ..querysets import CallQuerySet, today
from .base import DatedWindow, non_negative, not_before
from .reference import AidFormType, BeneficiaryType, Document, Funder, Programme, Region, Theme


@dataclasses.dataclass(frozen=True)
class ShownText:
    """A call's text as a page in the active language shows it: the registry's English text on an
    English page where it has one, else the French source text, marked as French for readers and
    screen readers (`lang_attr`)."""

    text: str
    lang: str

    def __str__(self):
        return self.text

    def __bool__(self):
        return bool(self.text)

    @property
    def in_another_language(self) -> bool:
        return bool(self.text) and not (get_language() or "fr").startswith(self.lang)

    @property
    def lang_attr(self) -> str:
        """` lang="fr"` on an English page showing French text (else nothing)."""
        return mark_safe(f' lang="{self.lang}"') if self.in_another_language else ""


class Call(DatedWindow):
    """A call for funding: an AAP, an AMI, an open scheme, a fund, a prize…"""

    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(
        _("title in English"), max_length=300, blank=True,
        help_text=_("Written by the registry (our own words); official names kept."),
    )
    slug = models.SlugField(_("slug"), max_length=150, unique=True)
    summary = models.TextField(_("summary"), blank=True)
    summary_en = models.TextField(_("summary in English"), blank=True)
    description = models.TextField(_("description"), blank=True)
    call_type = models.CharField(_("type"), max_length=40, choices=CallType.choices)
    programme = models.ForeignKey(
        Programme, verbose_name=_("programme"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="calls",
    )
    funders = models.ManyToManyField(
        Funder, through="CallFunder", verbose_name=_("funders"), related_name="calls"
    )
    is_rolling = models.BooleanField(
        _("rolling (open-ended)"), default=False,
        help_text=_("An open scheme with no single deadline."),
    )
    recurrence = models.CharField(
        _("recurrence"), max_length=20, choices=Recurrence.choices, blank=True,
        help_text=_("Permanent: a standing scheme with no call window, open while its page presents it as "
                    "current (a source covering 'recurrence'); an end date closes it."),
    )
    editions_per_year = models.PositiveSmallIntegerField(
        _("editions per year"), null=True, blank=True,
        help_text=_("For a recurring call, how often a source says it comes back (1: yearly)."),
    )
    edition_year = models.PositiveSmallIntegerField(
        _("edition year"), null=True, blank=True, validators=[validate_supported_year],
        help_text=_("The year of this edition when its dates are not given: once past, the call is closed."),
    )
    discontinued = models.BooleanField(
        _("stopped, according to its page"), default=False,
        help_text=_("A page says the scheme stopped or was replaced (a source covering 'discontinued'): "
                    "the call is closed whatever its recurrence."),
    )
    total_budget_eur = models.BigIntegerField(_("total budget (EUR)"), null=True, blank=True)
    floor_eur = models.BigIntegerField(_("floor per project (EUR)"), null=True, blank=True)
    funding_rate_min_pct = models.PositiveSmallIntegerField(_("funding rate min (%)"), null=True, blank=True)
    funding_rate_max_pct = models.PositiveSmallIntegerField(_("funding rate max (%)"), null=True, blank=True)
    aid_forms = models.ManyToManyField(AidFormType, verbose_name=_("aid forms"), blank=True, related_name="calls")
    duration_min_months = models.PositiveSmallIntegerField(_("duration min (months)"), null=True, blank=True)
    duration_max_months = models.PositiveSmallIntegerField(_("duration max (months)"), null=True, blank=True)
    beneficiaries = models.ManyToManyField(
        BeneficiaryType, verbose_name=_("beneficiaries"), blank=True, related_name="calls"
    )
    scope = models.CharField(_("scope"), max_length=20, choices=Scope.choices, default=Scope.NATIONAL)
    country = models.CharField(
        _("country (ISO code)"), max_length=2, default="FR",
        help_text=_("Where the scheme applies: foreign schemes are kept as references."),
    )
    regions = models.ManyToManyField(
        Region, verbose_name=_("eligible regions"), blank=True, related_name="calls",
        help_text=_("For regional calls: the regions whose applicants are eligible."),
    )
    consortium_required = models.BooleanField(_("consortium required"), null=True, blank=True)
    trl_min = models.PositiveSmallIntegerField(_("TRL min"), null=True, blank=True)
    trl_max = models.PositiveSmallIntegerField(_("TRL max"), null=True, blank=True)
    themes = models.ManyToManyField(Theme, verbose_name=_("themes"), blank=True, related_name="calls")
    eligibility = models.TextField(_("eligibility"), blank=True)
    eligible_expenses = models.TextField(_("eligible expenses"), blank=True)
    apply_url = models.URLField(_("how to apply (URL)"), max_length=500, blank=True)
    apply_url_kind = models.CharField(
        _("the link leads to"), max_length=20, choices=ApplyUrlKind.choices, default=ApplyUrlKind.APPLICATION,
        blank=True,  # a form or a file that leaves it out means the application page
    )
    previous_edition = models.OneToOneField(
        "self", verbose_name=_("previous edition"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="next_edition",
    )
    publication_state = models.CharField(
        _("publication state"), max_length=10, choices=PublicationState.choices,
        default=PublicationState.DRAFT, db_index=True,
    )
    last_verified_on = models.DateField(
        _("last verified on"), null=True, blank=True, validators=[validate_supported_date]
    )
    curator_note = models.TextField(_("curator note"), blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by (partner)"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="submitted_calls",
    )
    published_at = models.DateTimeField(
        _("first published at"), null=True, blank=True, editable=False, db_index=True,
        help_text=_("When a curator first published the call: what the feed of new calls follows."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    # The vocabularies a call links to are tracked too: a change of beneficiaries (PME → ETI)
    # shows in the call's history. Funders' roles, rounds, ceilings, sources and laureates
    # have their own history (their models), merged into the call's by `calls.history`.
    history = HistoricalRecords(m2m_fields=[aid_forms, beneficiaries, regions, themes])

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["closes_on", "title"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        permissions = [("submit_call", _("Can submit calls through the API (stored as drafts)"))]
        constraints = [
            not_before("closes_on", "opens_on", "closes_not_before_opens"),
            non_negative("total_budget_eur"),
            non_negative("floor_eur"),
            models.CheckConstraint(
                condition=Q(trl_min__isnull=True) | Q(trl_min__gte=1, trl_min__lte=9),
                name="calls_call_trl_min_1_to_9",
            ),
            models.CheckConstraint(
                condition=Q(trl_max__isnull=True) | Q(trl_max__gte=1, trl_max__lte=9),
                name="calls_call_trl_max_1_to_9",
            ),
            not_before("trl_max", "trl_min", "trl_min_not_above_max"),
            models.CheckConstraint(
                condition=Q(funding_rate_max_pct__isnull=True) | Q(funding_rate_max_pct__lte=100),
                name="calls_call_funding_rate_at_most_100",
            ),
            not_before("funding_rate_max_pct", "funding_rate_min_pct", "funding_rate_min_not_above_max"),
            not_before("duration_max_months", "duration_min_months", "duration_min_not_above_max"),
            models.CheckConstraint(
                condition=~Q(previous_edition=F("pk")), name="calls_call_not_its_own_edition"
            ),
            models.CheckConstraint(
                condition=Q(editions_per_year__isnull=True) | Q(editions_per_year__gte=1, editions_per_year__lte=12),
                name="calls_call_editions_per_year_1_to_12",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("call-detail", args=[self.slug])

    def _shown(self, french: str, english: str) -> ShownText:
        if (get_language() or "fr").startswith("en") and english:
            return ShownText(english, "en")
        return ShownText(french, "fr")

    @property
    def title_shown(self) -> ShownText:
        """The title in the page's language where the registry wrote one (`title_en`), else French."""
        return self._shown(self.title, self.title_en)

    @property
    def summary_shown(self) -> ShownText:
        """The summary in the page's language where the registry wrote one (`summary_en`), else French."""
        return self._shown(self.summary, self.summary_en)

    @property
    def description_shown(self) -> ShownText:
        """The description: written in French only."""
        return ShownText(self.description, "fr")

    def clean(self):
        self.apply_url_kind = self.apply_url_kind or ApplyUrlKind.APPLICATION
        errors = self.window_errors()
        for low, high, label in (
            ("trl_min", "trl_max", _("TRL")),
            ("funding_rate_min_pct", "funding_rate_max_pct", _("funding rate")),
            ("duration_min_months", "duration_max_months", _("duration")),
        ):
            if getattr(self, low) is not None and getattr(self, high) is not None:
                if getattr(self, low) > getattr(self, high):
                    errors[high] = _("The maximum %(what)s cannot be below the minimum.") % {"what": label}
        for field in ("trl_min", "trl_max"):
            value = getattr(self, field)
            if value is not None and not 1 <= value <= 9:
                errors[field] = _("A TRL is between 1 and 9.")
        if self.funding_rate_max_pct is not None and self.funding_rate_max_pct > 100:
            errors["funding_rate_max_pct"] = _("A funding rate is at most 100%.")
        if self.editions_per_year is not None and not 1 <= self.editions_per_year <= 12:
            errors["editions_per_year"] = _("A call comes back between 1 and 12 times a year.")
        if self.previous_edition_id and self.previous_edition_id == self.pk:
            errors["previous_edition"] = _("A call cannot be its own previous edition.")
        if errors:
            raise ValidationError(errors)

    # Status is derived, never stored: the queryset annotates it (`with_status()`), and
    # this property computes the same rules in Python for a single instance.
    @property
    def status(self):
        if hasattr(self, "current_status"):
            return self.current_status
        return self.status_on(today())

    def status_on(self, on: datetime.date) -> str:
        """The call's status on `on`, from its date facts (the rules of `calls.date_facts`)."""
        return facts_of_call(self).status_on(on)

    @property
    def is_for_applicants_in_france(self) -> bool:
        """Not a foreign scheme kept as a reference: European and international calls, and
        national or regional ones of France (stored in the read model, which filters read)."""
        return self.country == "FR" or self.scope not in (Scope.NATIONAL, Scope.REGIONAL)

    @property
    def is_open_to_every_region(self) -> bool:
        """For applicants in France wherever they are: not regional, or regional naming no region."""
        return self.is_for_applicants_in_france and (
            self.scope != Scope.REGIONAL or not any(True for _ in self.regions.all())
        )

    def dates_passed_since_verified(self, on: datetime.date | None = None) -> bool:
        """Whether the call's last deadline (its own, or a round's) has passed since its facts were
        last checked against its sources (or it was never checked): a newer edition may exist."""
        on = on or today()
        deadlines = [day for day in [self.closes_on, *(r.closes_on for r in self.rounds.all())] if day]
        if not deadlines or max(deadlines) >= on:
            return False
        return self.last_verified_on is None or self.last_verified_on < max(deadlines)

    def mark_published(self, when=None):
        """Publish the call, remembering when it was first published."""
        self.publication_state = PublicationState.PUBLISHED
        if self.published_at is None:
            self.published_at = when or timezone.now()

    def get_status_display(self):
        return Status(self.status).label

    @cached_property
    def card(self):
        """What the call's card in a list shows (`calls.cards`; set for a whole page by `attach_cards`)."""
        from ..cards import card_of

        return card_of(self)

    @property
    def upcoming_deadline(self):
        """The nearest deadline from today (`DateFacts.next_deadline`): a closed call has none."""
        if hasattr(self, "next_deadline"):
            return self.next_deadline
        return facts_of_call(self).next_deadline(today())

    @property
    def public_previous_edition(self):
        """The previous edition, when the public may see it (a draft or archived one is hidden)."""
        return _if_published(self.previous_edition)

    @property
    def public_next_edition(self):
        """The next edition, when published: a curator's draft of it stays private."""
        return _if_published(getattr(self, "next_edition", None))

    @property
    def max_ceiling_eur(self):
        amounts = [c.amount_eur for c in self.ceilings.all()]
        return max(amounts) if amounts else None


def _if_published(call):
    return call if call is not None and call.publication_state == PublicationState.PUBLISHED else None


class CallFunder(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="funder_roles")
    funder = models.ForeignKey(Funder, verbose_name=_("funder"), on_delete=models.PROTECT, related_name="call_roles")
    role = models.CharField(_("role"), max_length=20, choices=FunderRole.choices, default=FunderRole.FUNDER)
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("funder of the call")
        verbose_name_plural = _("funders of the call")
        constraints = [models.UniqueConstraint(fields=["call", "funder"], name="calls_callfunder_once_per_call")]

    def __str__(self):
        return f"{self.funder} ({self.get_role_display()})"


class Round(DatedWindow):
    """A wave or cut-off of a call, with its own dates and budget."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="rounds")
    name = models.CharField(_("name"), max_length=200)
    budget_eur = models.BigIntegerField(_("budget (EUR)"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["closes_on", "opens_on", "pk"]
        # The status conditions look rounds up by date for every search.
        indexes = [models.Index(fields=["closes_on", "call"]), models.Index(fields=["opens_on", "call"])]
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        constraints = [
            not_before("closes_on", "opens_on", "closes_not_before_opens"),
            non_negative("budget_eur"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if errors := self.window_errors():
            raise ValidationError(errors)


class Ceiling(models.Model):
    """A per-project ceiling, with the condition it applies to (e.g. already labelled platforms)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="ceilings")
    amount_eur = models.BigIntegerField(_("amount (EUR)"))
    condition = models.CharField(_("applies to"), max_length=300, blank=True)
    to_confirm = models.BooleanField(
        _("to confirm for this edition"), default=False,
        help_text=_("Copied from the previous edition: untick once checked against this edition's sources."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-amount_eur", "pk"]
        indexes = [models.Index(fields=["call", "-amount_eur"])]  # a call's highest ceiling
        verbose_name = _("ceiling")
        verbose_name_plural = _("ceilings")
        constraints = [
            models.CheckConstraint(condition=Q(amount_eur__gt=0), name="calls_ceiling_amount_positive")
        ]

    def __str__(self):
        return f"{self.amount_eur} EUR {self.condition}".strip()

    def clean(self):
        if self.amount_eur is not None and self.amount_eur <= 0:
            raise ValidationError({"amount_eur": _("A ceiling is a positive amount.")})
        if self.call_id and self.call.floor_eur and self.amount_eur and self.amount_eur < self.call.floor_eur:
            raise ValidationError({"amount_eur": _("A ceiling cannot be below the call's floor.")})


class Source(models.Model):
    """Where a call's or a programme's facts come from; `covers` names the fields it supports."""

    call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.CASCADE, related_name="sources")
    programme = models.ForeignKey(
        Programme, null=True, blank=True, on_delete=models.CASCADE, related_name="sources"
    )
    document = models.ForeignKey(
        Document, verbose_name=_("document"), null=True, blank=True, on_delete=models.PROTECT, related_name="citations"
    )
    title = models.CharField(_("title"), max_length=500, blank=True, help_text=_("When no document is chosen."))
    url = models.URLField(_("URL"), max_length=500, blank=True)
    locator = models.CharField(_("section or page"), max_length=300, blank=True)
    accessed_on = models.DateField(_("accessed on"), null=True, blank=True, validators=[validate_supported_date])
    covers = models.CharField(
        _("fields it supports"), max_length=300, blank=True,
        help_text=_("Comma-separated: opens_on, closes_on, total_budget_eur, ceilings, laureates…"),
    )
    to_confirm = models.BooleanField(
        _("to confirm for this edition"), default=False,
        help_text=_("Copied from the previous edition: untick once checked against this edition's sources."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            models.CheckConstraint(
                condition=Q(call__isnull=False, programme__isnull=True)
                | Q(call__isnull=True, programme__isnull=False),
                name="calls_source_cites_one_entry",
            ),
            models.CheckConstraint(
                condition=Q(document__isnull=False) | ~Q(title=""), name="calls_source_has_title"
            ),
        ]

    def __str__(self):
        return f"{self.display_title} — {self.locator}" if self.locator else self.display_title

    def clean(self):
        if not self.document_id and not self.title:
            raise ValidationError({"title": _("Give the source's title or choose its document.")})

    @property
    def display_title(self):
        return self.document.title if self.document_id else self.title

    @property
    def display_url(self):
        return self.url or (self.document.url if self.document_id else "")

    @property
    def covered_fields(self):
        return {item.strip() for item in self.covers.split(",") if item.strip()}


class Laureate(models.Model):
    """A winner of a (past) call."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="laureates")
    organisation = models.CharField(_("organisation"), max_length=300)
    project = models.CharField(_("project"), max_length=300, blank=True)
    amount_eur = models.BigIntegerField(_("amount (EUR)"), null=True, blank=True)
    region = models.ForeignKey(Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True, validators=[validate_supported_year])
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "organisation", "pk"]  # pk: the same order every time (documents, search text)
        verbose_name = _("laureate")
        verbose_name_plural = _("laureates")
        constraints = [non_negative("amount_eur")]

    def __str__(self):
        return self.organisation

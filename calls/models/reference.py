"""Who funds, under which programme, on which themes: the registry's reference entries."""
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from calls.choices import AidForm, Beneficiary, DatePrecision, FunderKind
from calls.dates import format_partial_date, validate_supported_date
from calls.models.base import negative_amounts, non_negative, not_before


class Region(models.Model):
    """A French region, by its INSEE code (11 = Île-de-France)."""

    code = models.CharField(_("INSEE code"), max_length=3, primary_key=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return self.name


class CodedTerm(models.Model):
    """A term of a controlled vocabulary stored as a row, so calls can link to several."""

    code = models.CharField(max_length=40, primary_key=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self):
        return str(self.get_code_display())


class BeneficiaryType(CodedTerm):
    code = models.CharField(_("code"), max_length=40, primary_key=True, choices=Beneficiary.choices)

    class Meta(CodedTerm.Meta):
        verbose_name = _("beneficiary type")
        verbose_name_plural = _("beneficiary types")


class AidFormType(CodedTerm):
    code = models.CharField(_("code"), max_length=40, primary_key=True, choices=AidForm.choices)

    class Meta(CodedTerm.Meta):
        verbose_name = _("aid form")
        verbose_name_plural = _("aid forms")


def glossed_name(name, gloss):
    """A funder's or programme's official name as shown to a visitor: kept as it is, with the
    English gloss in brackets on English pages when a gloss exists and says something else."""
    if gloss and gloss != name and (get_language() or "fr").startswith("en"):
        return f"{name} ({gloss})"
    return name


class Theme(models.Model):
    """A curated theme (bioproduction, cell therapy…) with a French and an English name."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name = models.CharField(_("name (French)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("theme")
        verbose_name_plural = _("themes")

    def __str__(self):
        return self.label

    @property
    def label(self):
        return self.name_en if (get_language() or "fr").startswith("en") else self.name


class Document(models.Model):
    """A source document that entries cite (a thesis, a report, a web page)."""

    key = models.SlugField(_("key"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=500)
    url = models.URLField(_("URL"), max_length=500, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["title"]
        verbose_name = _("source document")
        verbose_name_plural = _("source documents")

    def __str__(self):
        return self.title


class Funder(models.Model):
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(
        _("English gloss"), max_length=200, blank=True,
        help_text=_("English gloss of the name, our words; official name kept"),
    )
    acronym = models.CharField(_("acronym"), max_length=40, blank=True)
    aliases = models.TextField(
        _("aliases"), blank=True,
        help_text=_("Other names the funder is known by, one per line: its official long name, acronyms, "
                    "former names (as the funder or a source writes them). Imports and the admin's search find "
                    "the funder by them."),
    )
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=40, choices=FunderKind.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="funders",
    )
    country = models.CharField(_("country (ISO code)"), max_length=2, default="FR")
    website = models.URLField(_("website"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("funder")
        verbose_name_plural = _("funders")

    def __str__(self):
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    def get_absolute_url(self):
        return reverse("funder-detail", args=[self.slug])

    @property
    def display_name(self):
        """The name a visitor reads: the official name, followed on English pages by our English
        gloss in brackets where there is one (French pages show the official name alone)."""
        return glossed_name(self.name, self.name_en)

    @property
    def alias_list(self) -> list[str]:
        """The aliases, one per line, in their order (blank lines and repeats left out)."""
        return list(dict.fromkeys(line.strip() for line in self.aliases.splitlines() if line.strip()))

    def known_names(self) -> list[str]:
        """Every name the funder is known by: its name, its acronym and its aliases. A feed's funder
        (`importers.base.FunderIndex`) and a curator's search in the admin's autocomplete
        (`admin.FunderAdmin`) match any of them."""
        return [name for name in (self.name, self.acronym, *self.alias_list) if name]

    def clean(self):
        if self.kind == FunderKind.REGIONAL_AUTHORITY and not self.region_id:
            raise ValidationError({"region": _("A regional authority needs its region.")})
        self.aliases = "\n".join(self.alias_list)  # one per line, no blank line, each once


class Programme(models.Model):
    """An umbrella plan or strategy (France 2030, a CPER and its axes…)."""

    name = models.CharField(_("name"), max_length=300)
    name_en = models.CharField(
        _("English gloss"), max_length=300, blank=True,
        help_text=_("English gloss of the name, our words; official name kept"),
    )
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent programme"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )
    funders = models.ManyToManyField(Funder, verbose_name=_("funders"), blank=True, related_name="programmes")
    budget_eur = models.BigIntegerField(_("budget (EUR)"), null=True, blank=True)
    starts_on = models.DateField(_("start"), null=True, blank=True, validators=[validate_supported_date])
    starts_on_precision = models.CharField(
        _("start precision"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    ends_on = models.DateField(_("end"), null=True, blank=True, validators=[validate_supported_date])
    ends_on_precision = models.CharField(
        _("end precision"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    description = models.TextField(_("description"), blank=True)
    curator_note = models.TextField(_("curator note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        constraints = [
            non_negative("budget_eur"),
            not_before("ends_on", "starts_on", "ends_not_before_start"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("programme-detail", args=[self.slug])

    @property
    def display_name(self):
        """The name a visitor reads: the official name, followed on English pages by our English
        gloss in brackets where there is one (French pages show the official name alone)."""
        return glossed_name(self.name, self.name_en)

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The end cannot be before the start.")})
        if errors := negative_amounts(self, "budget_eur"):
            raise ValidationError(errors)
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk:
                raise ValidationError({"parent": _("A programme cannot be its own ancestor.")})
            ancestor = ancestor.parent

    def with_descendants(self):
        """This programme and every programme under it (its axes, their measures…)."""
        found, frontier = {self.pk}, {self.pk}
        while frontier:
            frontier = set(Programme.objects.filter(parent__in=frontier).values_list("pk", flat=True)) - found
            found |= frontier
        return Programme.objects.filter(pk__in=found)

    @property
    def starts_on_display(self):
        return format_partial_date(self.starts_on, self.starts_on_precision)

    @property
    def ends_on_display(self):
        return format_partial_date(self.ends_on, self.ends_on_precision)

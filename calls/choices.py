"""Controlled vocabularies of the registry: the codes are the public contract (API, filters)."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class FunderKind(models.TextChoices):
    STATE = "state", _("State")
    STATE_AGENCY = "state_agency", _("State agency")
    REGIONAL_AUTHORITY = "regional_authority", _("Regional authority")
    LOCAL_AUTHORITY = "local_authority", _("Local authority")
    EUROPEAN_UNION = "european_union", _("European Union")
    PUBLIC_BANK = "public_bank", _("Public bank")
    COMPETITIVENESS_CLUSTER = "competitiveness_cluster", _("Competitiveness cluster")
    PRIVATE_FUND = "private_fund", _("Private fund")
    FOUNDATION = "foundation", _("Foundation")
    ASSOCIATION = "association", _("Association")
    FOREIGN_PUBLIC = "foreign_public", _("Foreign public body")


class CallType(models.TextChoices):
    CALL_FOR_PROJECTS = "call_for_projects", _("Call for projects")
    EXPRESSION_OF_INTEREST = "expression_of_interest", _("Call for expressions of interest")
    CALL_FOR_APPLICATIONS = "call_for_applications", _("Call for applications")
    OPEN_SCHEME = "open_scheme", _("Open scheme")
    PRIZE = "prize", _("Prize")
    FUND = "fund", _("Fund")
    TAX_INCENTIVE = "tax_incentive", _("Tax incentive")
    # A measure a source proposes or recommends: a reference, never a call one can apply to.
    PROPOSED_MEASURE = "proposed_measure", _("Proposed measure")


class FunderRole(models.TextChoices):
    FUNDER = "funder", _("Funder")
    CO_FUNDER = "co_funder", _("Co-funder")
    OPERATOR = "operator", _("Operator")
    ANIMATOR = "animator", _("Animator")


class AidForm(models.TextChoices):
    GRANT = "grant", _("Grant")
    REPAYABLE_ADVANCE = "repayable_advance", _("Repayable advance")
    LOAN = "loan", _("Loan")
    EQUITY = "equity", _("Equity")
    TAX_CREDIT = "tax_credit", _("Tax credit")
    IN_KIND = "in_kind", _("In-kind support")
    GUARANTEE = "guarantee", _("Guarantee")


class Beneficiary(models.TextChoices):
    STARTUP = "startup", _("Start-up")
    SME = "sme", _("SME")
    MIDCAP = "midcap", _("Mid-cap company")
    LARGE_COMPANY = "large_company", _("Large company")
    CDMO = "cdmo", _("CDMO")
    ACADEMIC_LAB = "academic_lab", _("Academic laboratory")
    UNIVERSITY = "university", _("University")
    TRAINING_BODY = "training_body", _("Training body")
    TECHNOLOGY_PLATFORM = "technology_platform", _("Technology platform")
    HOSPITAL = "hospital", _("Hospital")
    CLUSTER = "cluster", _("Cluster")
    LOCAL_AUTHORITY = "local_authority", _("Local authority")
    ASSOCIATION = "association", _("Association")


# Who may apply, in an applicant's terms: a call open to SMEs is open to start-ups, since a
# start-up is a young SME (a call for large companies only is not). Read by the beneficiary
# filter, its facet count and "why it matches" alike (`beneficiaries_who_may_apply`).
ALSO_OPEN_TO = {Beneficiary.SME: (Beneficiary.STARTUP,)}


def beneficiaries_who_may_apply(named) -> dict[str, str]:
    """{applicant code: the code the call names that lets it apply} for a call naming `named`:
    each named code for itself, and the applicants a named code includes (`ALSO_OPEN_TO`)."""
    who = {str(code): str(code) for code in named}
    for code in named:
        for included in ALSO_OPEN_TO.get(code, ()):
            who.setdefault(str(included), str(code))
    return who


class Scope(models.TextChoices):
    INTERNATIONAL = "international", _("International")
    EUROPEAN = "european", _("European")
    NATIONAL = "national", _("National")
    REGIONAL = "regional", _("Regional")


class PublicationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Status(models.TextChoices):
    """Derived from the dates at query time, never stored."""

    UPCOMING = "upcoming", _("Upcoming")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    # Not rolling, and neither the call nor any of its rounds has a date: we cannot say.
    DATES_UNKNOWN = "dates_unknown", _("Dates not given by the sources")


class Recurrence(models.TextChoices):
    """How a call comes back, as aides-territoires models it (left blank where no source says)."""

    ONE_OFF = "one_off", _("One-off")
    RECURRING = "recurring", _("Recurring")
    # A funder's standing aid with no call window: open while its page presents it as current.
    PERMANENT = "permanent", _("Permanent scheme")


class ApplyUrlKind(models.TextChoices):
    """What the "how to apply" link leads to."""

    APPLICATION = "application", _("Application page")
    # The funder has no application page: its contact page, labelled so.
    CONTACT = "contact", _("Contact page")


class DatePrecision(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


# French regions by INSEE code (code officiel géographique, regions since 2016).
REGIONS = {
    "01": "Guadeloupe",
    "02": "Martinique",
    "03": "Guyane",
    "04": "La Réunion",
    "06": "Mayotte",
    "11": "Île-de-France",
    "24": "Centre-Val de Loire",
    "27": "Bourgogne-Franche-Comté",
    "28": "Normandie",
    "32": "Hauts-de-France",
    "44": "Grand Est",
    "52": "Pays de la Loire",
    "53": "Bretagne",
    "75": "Nouvelle-Aquitaine",
    "76": "Occitanie",
    "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d'Azur",
    "94": "Corse",
}
Region = models.TextChoices("Region", [(code, (code, name)) for code, name in REGIONS.items()])


class CallCovers(models.TextChoices):
    """What a source of a call may say it supports (its `covers`): the call's figures, by the word
    the data format names each with (docs/data-format.md) and the label curators tick."""

    OPENS_ON = "opens_on", _("opening date")
    CLOSES_ON = "closes_on", _("closing date")
    ROUNDS = "rounds", _("rounds")
    TOTAL_BUDGET = "total_budget_eur", _("total budget (EUR)")
    CEILINGS = "ceilings", _("ceilings")
    FLOOR = "floor_eur", _("floor per project (EUR)")
    FUNDING_RATE = "funding_rate", _("funding rate")
    DURATION = "duration", _("duration")
    TRL = "trl", _("TRL")
    LAUREATES = "laureates", _("laureates")
    RECURRENCE = "recurrence", _("recurrence")
    EDITION_YEAR = "edition_year", _("edition year")
    DISCONTINUED = "discontinued", _("stopped, according to its page")


class ProgrammeCovers(models.TextChoices):
    """What a source of a programme may say it supports (its `covers`)."""

    BUDGET = "budget_eur", _("budget (EUR)")
    STARTS_ON = "starts_on", _("start")
    ENDS_ON = "ends_on", _("end")

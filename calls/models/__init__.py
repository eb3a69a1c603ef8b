"""The registry's data model: funders, programmes, calls and what hangs off a call."""
from calls.models.base import DatedWindow
from calls.models.call import Call, CallFunder, Ceiling, Laureate, Round, Source
from calls.models.checks import CallToReverify, SourceCheck
from calls.models.curators import CuratorDigest
from calls.models.provenance import Provenance
from calls.models.read_model import CallFacet, CallIndex, CallPeriod, RegistryVersion
from calls.models.reference import AidFormType, BeneficiaryType, CodedTerm, Document, Funder, Programme, Region, Theme
from calls.models.reports import PublicReport

__all__ = [
    "AidFormType", "BeneficiaryType", "Call", "CallFunder", "CallToReverify", "CuratorDigest", "SourceCheck",
    "CallFacet", "CallIndex", "CallPeriod",
    "Ceiling", "CodedTerm", "DatedWindow", "Document",
    "Funder", "Laureate", "Programme", "Provenance", "PublicReport",
    "Region", "RegistryVersion", "Round", "Source", "Theme",
]

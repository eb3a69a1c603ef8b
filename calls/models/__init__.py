"""The registry's data model: funders, programmes, calls and what hangs off a call."""
from .alerts import AlertReason, AlertSubscription, Rhythm, SentAlert
from .base import DatedWindow
from .call import Call, CallFunder, Ceiling, Laureate, Round, Source
from .checks import CallToReverify, SourceCheck
from .curators import CuratorDigest
from .provenance import Provenance
from .read_model import CallFacet, CallIndex, CallPeriod, RegistryVersion
from .reference import AidFormType, BeneficiaryType, CodedTerm, Document, Funder, Programme, Region, Theme
from .reports import PublicReport

__all__ = [
    "AlertReason", "AlertSubscription", "Rhythm", "SentAlert",
    "AidFormType", "BeneficiaryType", "Call", "CallFunder", "CallToReverify", "CuratorDigest", "SourceCheck",
    "CallFacet", "CallIndex", "CallPeriod",
    "Ceiling", "CodedTerm", "DatedWindow", "Document",
    "Funder", "Laureate", "Programme", "Provenance", "PublicReport",
    "Region", "RegistryVersion", "Round", "Source", "Theme",
]

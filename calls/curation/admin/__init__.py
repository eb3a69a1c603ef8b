"""The curators' admin, by responsibility (Django's admin discovery imports this package): calls
and their inlines, references, what to review, accounts."""
from calls.curation.admin import accounts, calls, references, review  # noqa: F401  (registers them)

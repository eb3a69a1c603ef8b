"""Every facet count is the number of results the visitor gets after choosing that value."""
import pytest
from django.core.management import call_command
from django.http import QueryDict

from calls.filters import FACETS, CallFilterSet

pytestmark = pytest.mark.django_db

BASES = [
    "",  # the home page's default search
    "region=11&beneficiary=startup&amount=500000&trl=4",  # the start-up's journey
    "status=open&status=upcoming&status=closed&status=dates_unknown&foreign=include",  # everything
]


def _search(query):
    filterset = CallFilterSet(QueryDict(query, mutable=True))
    assert filterset.is_valid(), filterset.errors
    return filterset


@pytest.mark.parametrize("base", BASES)
def test_every_facet_count_equals_the_results_after_choosing_that_value(base):
    call_command("load_registry", verbosity=0)
    facets = _search(base).facet_counts()
    checked = 0
    for name in FACETS:
        for value, _label in CallFilterSet.base_filters[name].field.choices:
            if value in ("", None):
                continue
            query = QueryDict(base, mutable=True)
            query.setlist(name, [str(value)])
            results = _search(query.urlencode()).qs.count()
            assert facets[name].get(str(value), 0) == results, (base, name, value)
            checked += 1
    assert checked > 50

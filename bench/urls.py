"""The bench's URLs: the registry's own, the reference views, and /healthz if not routed yet."""
from django.urls import path

from bench import reference
from registry import health

try:
    from registry import urls as registry_urls
except Exception as error:  # noqa: BLE001 - the API may be mid-build: serve the rest, say so
    import sys

    from django.conf.urls.i18n import i18n_patterns
    from django.urls import include

    print(f"bench.urls: registry.urls failed to import ({error!r}); serving without the API", file=sys.stderr)
    registry_patterns = i18n_patterns(path("", include("calls.site.urls")), prefix_default_language=False)
else:
    registry_patterns = registry_urls.urlpatterns
    handler404 = getattr(registry_urls, "handler404", "django.views.defaults.page_not_found")
    handler500 = getattr(registry_urls, "handler500", "django.views.defaults.server_error")

urlpatterns = [
    path("bench/ref/constant.json", reference.constant_json, name="bench-constant-json"),
    path("bench/ref/flat-calls/", reference.FlatCallList.as_view(), name="bench-flat-calls"),
    path("bench/ref/flat-calls-status/", reference.FlatStatusCallList.as_view(), name="bench-flat-calls-status"),
]
_routed = {str(getattr(p, "pattern", "")) for p in registry_patterns}
if "healthz" not in _routed and "healthz/" not in _routed:
    urlpatterns.append(path("healthz", health.healthz, name="bench-healthz"))
urlpatterns += registry_patterns

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from registry.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The partners' API: not under a language prefix (one URL per resource, any language).
    path("api/", include("calls.api.urls")),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("", include("calls.urls")),
    prefix_default_language=False,
)

# JSON errors under /api/, the site's own pages elsewhere.
handler404 = "calls.api.views.api_not_found"
handler500 = "calls.api.views.api_server_error"

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.templatetags.static import static
from django.urls import include, path, re_path, reverse
from django.views.generic import RedirectView, TemplateView

from calls.site.sitemaps import SITEMAPS
from registry.health import healthz


class FaviconView(RedirectView):
    """/favicon.ico, which browsers and crawlers ask for: the static icon (its hashed name in
    production, read when asked, not when the URLs are loaded)."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("img/favicon.ico")


class AdminMovedView(RedirectView):
    """/admin/calls/alertsubscription/… → /admin/alerts/alertsubscription/… (same query string)."""

    permanent = True

    def get_redirect_url(self, *args, model, rest, **kwargs):
        query = self.request.META.get("QUERY_STRING", "")
        return reverse("admin:index") + f"alerts/{model}/{rest}" + (f"?{query}" if query else "")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # What browsers and crawlers ask for at the site's root.
    path("robots.txt", TemplateView.as_view(template_name="robots.txt", content_type="text/plain"), name="robots"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("favicon.ico", FaviconView.as_view()),
    path("i18n/", include("django.conf.urls.i18n")),
    # The partners' API: not under a language prefix (one URL per resource, any language).
    path("api/", include("calls.api.urls")),
]
urlpatterns += i18n_patterns(
    # The alerts' admin pages before their models had their own app: bookmarks still lead there.
    re_path(r"^admin/calls/(?P<model>alertsubscription|sentalert)/(?P<rest>.*)$", AdminMovedView.as_view()),
    path("admin/", admin.site.urls),
    path("", include("calls.site.urls")),
    prefix_default_language=False,
)

# JSON errors under /api/, the site's own pages elsewhere.
handler404 = "registry.errors.not_found"
handler500 = "registry.errors.server_error"

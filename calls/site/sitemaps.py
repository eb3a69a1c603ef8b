"""The sitemap (`/sitemap.xml`): every published call, funder and programme, in French and English,
each page with its alternate in the other language (hreflang)."""
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from calls.models import Call, Funder, Programme


class _Bilingual(Sitemap):
    i18n = True
    languages = ["fr", "en"]
    alternates = True
    x_default = True


class CallSitemap(_Bilingual):
    changefreq = "weekly"

    def items(self):
        return Call.objects.published().order_by("pk").only("slug", "updated_at")

    def lastmod(self, call):
        return call.updated_at


class FunderSitemap(_Bilingual):
    changefreq = "monthly"

    def items(self):
        return Funder.objects.filter(calls__publication_state="published").distinct().order_by("pk").only("slug")


class ProgrammeSitemap(_Bilingual):
    changefreq = "monthly"

    def items(self):
        return Programme.objects.filter(calls__publication_state="published").distinct().order_by("pk").only("slug")


class PageSitemap(_Bilingual):
    changefreq = "daily"

    def items(self):
        return [
            "call-search", "call-timeline", "funding-in-pictures", "funder-index", "programme-index",
            "about", "contact",
        ]

    def location(self, name):
        return reverse(name)


SITEMAPS = {"pages": PageSitemap, "calls": CallSitemap, "funders": FunderSitemap, "programmes": ProgrammeSitemap}

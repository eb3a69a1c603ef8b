from django.urls import path

from . import feeds, views

urlpatterns = [
    path("", views.CallSearchView.as_view(), name="call-search"),
    path("calendrier/", views.TimelineView.as_view(), name="call-timeline"),
    path("export/appels.csv", views.export_csv, name="call-export-csv"),
    path("export/echeances.ics", views.export_ics, name="call-export-ics"),
    path("flux/nouveaux-appels.atom", feeds.NewCallsFeed(), name="call-feed"),
    path("appels/<slug:slug>/", views.CallDetailView.as_view(), name="call-detail"),
    path("financeurs/<slug:slug>/", views.FunderDetailView.as_view(), name="funder-detail"),
    path("programmes/<slug:slug>/", views.ProgrammeDetailView.as_view(), name="programme-detail"),
]

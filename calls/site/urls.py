from django.urls import path

from calls.alerts import views as alerts
from calls.site import feeds, public_reports, views

urlpatterns = [
    path("", views.CallSearchView.as_view(), name="call-search"),
    path("calendrier/", views.TimelineView.as_view(), name="call-timeline"),
    path("export/appels.csv", views.export_csv, name="call-export-csv"),
    path("export/echeances.ics", views.export_ics, name="call-export-ics"),
    path("flux/nouveaux-appels.atom", feeds.NewCallsFeed(), name="call-feed"),
    path("appels/<slug:slug>/", views.CallDetailView.as_view(), name="call-detail"),
    path("appels/<slug:slug>/apercu/", views.CallPreviewView.as_view(), name="call-preview"),
    path("appels/<slug:slug>/agenda.ics", views.call_ics, name="call-ics"),
    path("appels/<slug:slug>/signaler/", public_reports.ReportErrorView.as_view(), name="call-report-error"),
    path("proposer-un-appel/", public_reports.SuggestCallView.as_view(), name="call-suggest"),
    path("merci/", public_reports.ThanksView.as_view(), name="public-report-thanks"),
    path("panorama/", views.FundingInPicturesView.as_view(), name="funding-in-pictures"),
    path("integrer/", views.EmbeddedListView.as_view(), name="call-embed"),
    path("a-propos/", views.AboutView.as_view(), name="about"),
    path("contact/", views.ContactView.as_view(), name="contact"),
    path("alertes/", alerts.SubscribeView.as_view(), name="alert-subscribe"),
    path("alertes/rappel/<slug:slug>/", alerts.RemindView.as_view(), name="alert-remind"),
    path("alertes/envoyee/", alerts.PendingView.as_view(), name="alert-pending"),
    path("alertes/confirmer/<str:token>/", alerts.ConfirmView.as_view(), name="alert-confirm"),
    path("alertes/gerer/<str:token>/", alerts.ManageView.as_view(), name="alert-manage"),
    path("alertes/recherche/", alerts.ChangeSearchView.as_view(), name="alert-change-search"),
    path("alertes/desabonner/<str:token>/", alerts.UnsubscribeView.as_view(), name="alert-unsubscribe"),
    path("alertes/oublier/<str:token>/", alerts.ForgetAddressView.as_view(), name="alert-forget"),
    path("financeurs/", views.FunderIndexView.as_view(), name="funder-index"),
    path("programmes/", views.ProgrammeIndexView.as_view(), name="programme-index"),
    path("financeurs/<slug:slug>/", views.FunderDetailView.as_view(), name="funder-detail"),
    path("programmes/<slug:slug>/", views.ProgrammeDetailView.as_view(), name="programme-detail"),
]

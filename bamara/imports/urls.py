from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("imports/", views.index, name="index"),
    path("imports/<int:pk>/", views.run_detail, name="run"),
    path("imports/<int:pk>/rapport/", views.download_report, name="report"),
    path("imports/<int:pk>/enregistrer/", views.commit, name="commit"),
]

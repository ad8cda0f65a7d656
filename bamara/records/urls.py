from django.urls import path

from . import views

app_name = "records"
urlpatterns = [
    path("tableau-de-bord/", views.dashboard, name="dashboard"),
    path("site/", views.switch_site, name="switch_site"),
    path("patients/recherche/", views.search, name="search"),
    path("patients/nouveau/", views.create, name="create"),
    path("patients/<int:pk>/", views.patient, name="patient"),
    path("patients/<int:pk>/rattacher/", views.attach, name="attach"),
]

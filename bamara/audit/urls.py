from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("patients/<int:pk>/historique/", views.history, name="history"),
    path("patients/<int:pk>/acces/", views.access_report, name="access_report"),
    path("sites/<str:code>/acces-filiere/", views.grants, name="grants"),
    path("sites/<str:code>/acces-filiere/<int:grant>/revoquer/", views.grant_revoke, name="grant_revoke"),
]

from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("documents", views.documents, name="documents"),
]

from django.urls import path

from . import views

app_name = "lists"

urlpatterns = [
    path("listes/patients/", views.patient_list, name="patients"),
    path("listes/patients/telecharger/", views.download, name="download"),
    path("listes/filtres/enregistrer/", views.save_filter, name="save_filter"),
    path("listes/filtres/supprimer/", views.delete_filter, name="delete_filter"),
]

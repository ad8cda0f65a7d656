from django.urls import path

from . import autocomplete, views, views_record

app_name = "records"
urlpatterns = [
    path("tableau-de-bord/", views.dashboard, name="dashboard"),
    path("site/", views.switch_site, name="switch_site"),
    path("patients/recherche/", views.search, name="search"),
    path("patients/nouveau/", views.create, name="create"),
    path("patients/<int:pk>/", views_record.patient, name="patient"),
    path("patients/<int:pk>/rattacher/", views.attach, name="attach"),
    # The record: sections generated from the SDM-MR definition, and their rows.
    path("patients/<int:pk>/dossier/<slug:key>/", views_record.section_view, name="section"),
    path("patients/<int:pk>/dossier/<slug:key>/modifier/", views_record.section_edit, name="section_edit"),
    path("patients/<int:pk>/dossier/<slug:key>/ajouter/", views_record.row_add, name="row_add"),
    path("patients/<int:pk>/dossier/<slug:key>/<int:row>/modifier/", views_record.row_edit, name="row_edit"),
    path("patients/<int:pk>/dossier/<slug:key>/<int:row>/supprimer/", views_record.row_delete,
         name="row_delete"),
    path("patients/<int:pk>/foetus/<int:row>/dossier/", views_record.foetus_record, name="foetus_record"),
    # Activities of a site's day; « avis sur dossier » of an external patient.
    path("sites/<str:code>/activites/", views_record.day_list, name="day_list"),
    path("sites/<str:code>/activites/patients/", views_record.day_list_patients, name="day_list_patients"),
    path("avis-sur-dossier/nouveau/", views_record.external_review, name="external_review"),
    # Terminology autocomplete (local tables).
    path("autocompletion/<slug:kind>/", autocomplete.autocomplete, name="autocomplete"),
]

from django.urls import path

from . import views

app_name = "quality"

urlpatterns = [
    path("qualite/", views.index, name="index"),
    path("qualite/sites/<str:code>/", views.scorecard, name="scorecard"),
    # One URL name per list, so that the access matrix checks each of them.
    path("qualite/sites/<str:code>/sans-activite/", views.followup_list, {"name": "inactive"}, name="inactive"),
    path("qualite/sites/<str:code>/impasse-diagnostique/", views.followup_list, {"name": "dead_end"},
         name="dead_end"),
    path("qualite/sites/<str:code>/incomplets/", views.followup_list, {"name": "missing"}, name="missing"),
    path("qualite/sites/<str:code>/codes-orpha-inactifs/", views.followup_list, {"name": "inactive_codes"},
         name="inactive_codes"),
    path("qualite/sites/<str:code>/a-corriger/", views.followup_list, {"name": "to_fix"}, name="to_fix"),
]

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("chiffres/", views.index, name="index"),
    path("chiffres/<str:kind>/<str:key>/", views.activity, name="activity"),
    path("chiffres/<str:kind>/<str:key>/piramig/", views.piramig, name="piramig"),
    path("chiffres/<str:kind>/<str:key>/export.<str:fmt>", views.export, name="export"),
]

from django.urls import path

from . import views

app_name = "identity"

urlpatterns = [
    path("doublons/", views.queue, name="queue"),
    path("doublons/<int:pk>/", views.candidate, name="candidate"),
    path("doublons/<int:pk>/fusionner/", views.merge_pair, name="merge"),
    path("doublons/<int:pk>/ecarter/", views.reject_pair, name="reject"),
    path("fusions/", views.merges, name="merges"),
    path("fusions/<int:pk>/", views.merge_detail, name="merge_detail"),
    path("fusions/<int:pk>/defusionner/", views.unmerge_view, name="unmerge"),
]

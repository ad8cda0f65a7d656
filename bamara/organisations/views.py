from django.apps import apps
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from bamara.records.models import Activity, Patient

from . import access
from .models import Filiere, Site


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and access.user_sites(request.user).exists():
        return redirect("records:dashboard")
    # Aggregates only: nominative pages come with the walled web application.
    figures = [
        (_("filières"), Filiere.objects.count()),
        (_("sites maladies rares"), Site.objects.count()),
        (_("dossiers patients"), Patient.objects.count()),
        (_("activités"), Activity.objects.count()),
    ]
    releases = []
    if apps.is_installed("bamara.terminologies"):
        try:
            release_model = apps.get_model("terminologies", "TerminologyRelease")
            releases = list(release_model.objects.all())
        except LookupError:
            pass
    return render(request, "home.html", {"figures": figures, "releases": releases})

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/cda/", include("bamara.intake.urls")),
    path("", include("bamara.accounts.urls")),
    path("", include("bamara.records.urls")),
    path("", include("bamara.organisations.urls")),
    path("", include("bamara.audit.urls")),
    path("", include("bamara.identity.urls")),
    path("", include("bamara.lists.urls")),
    path("", include("bamara.reports.urls")),
    path("", include("bamara.imports.urls")),
    path("", include("bamara.quality.urls")),
]

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import (
    Filiere,
    FiliereReferent,
    Hospital,
    HospitalManager,
    Site,
    SiteAccessGrant,
    SiteMembership,
    User,
)


@admin.register(Filiere)
class FiliereAdmin(admin.ModelAdmin):
    list_display = ["acronym", "name"]
    search_fields = ["acronym", "name"]


@admin.register(Hospital)
class HospitalAdmin(admin.ModelAdmin):
    list_display = ["finess_et", "finess_ej", "name", "commune_code"]
    search_fields = ["finess_et", "finess_ej", "name"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "filiere", "hospital", "deployment_mode", "active"]
    list_filter = ["kind", "filiere", "deployment_mode", "active"]
    search_fields = ["code", "name", "centre_acronym"]


class MembershipInline(admin.TabularInline):
    model = SiteMembership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["site"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "hospital", "is_active", "is_national_team"]
    search_fields = ["email", "first_name", "last_name", "rpps"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Identité", {"fields": ("first_name", "last_name", "rpps", "profession", "hospital")}),
        ("Droits", {"fields": ("is_active", "is_national_team", "is_staff", "is_superuser")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


admin.site.register(HospitalManager)
admin.site.register(FiliereReferent)


@admin.register(SiteAccessGrant)
class SiteAccessGrantAdmin(admin.ModelAdmin):
    """Read only: grants are given and revoked by the site's referents on the site's page
    (audited there), never here."""

    list_display = ("site", "user", "granted_by", "granted_at", "ends_on", "revoked_at")
    list_filter = ("site__filiere",)
    search_fields = ("site__code", "user__email")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

from django.contrib import admin

from .models import RegistrationRequest


@admin.register(RegistrationRequest)
class RegistrationRequestAdmin(admin.ModelAdmin):
    list_display = ["user", "hospital", "status", "created_at", "email_confirmed_at", "decided_by"]
    list_filter = ["status"]
    search_fields = ["user__email", "user__last_name", "hospital__name"]
    raw_id_fields = ["user", "decided_by"]
    filter_horizontal = ["sites"]

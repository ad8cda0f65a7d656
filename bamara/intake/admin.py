"""Read-only views of the received documents and of the hospital-system credentials."""

from __future__ import annotations

from django.contrib import admin

from .models import HospitalSystemCredential, ReceivedDocument


@admin.register(ReceivedDocument)
class ReceivedDocumentAdmin(admin.ModelAdmin):
    list_display = ("received_at", "hospital", "channel", "status", "document_id", "version_number", "sdm_version")
    list_filter = ("status", "channel", "sdm_version")
    search_fields = ("document_id", "set_id", "sha256")
    exclude = ("content",)
    readonly_fields = [f.name for f in ReceivedDocument._meta.fields if f.name != "content"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(HospitalSystemCredential)
class HospitalSystemCredentialAdmin(admin.ModelAdmin):
    list_display = ("name", "hospital", "active", "created_at", "last_used_at")
    list_filter = ("active",)
    fields = ("name", "hospital", "active", "token_prefix", "created_at", "last_used_at")
    readonly_fields = ("name", "hospital", "token_prefix", "created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False  # tokens are created by `bamara create_intake_credential`, shown once

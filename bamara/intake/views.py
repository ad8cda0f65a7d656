"""POST /api/cda/documents: one hospital system sends a CDA SDM-MR document or an XDM zip.

    Authorization: Bearer <token>            (bamara create_intake_credential)
    Content-Type: application/xml | text/xml | application/hl7-cda+xml | application/zip

Answers JSON: {"status", "documents": [acknowledgement, ...]} with, for one document, its
acknowledgement fields at the top level too. HTTP 200 (all accepted), 202 (accepted with
warnings, or ignored as already received), 422 (one or more rejected), 400 (bad request),
401 (no or bad token), 405, 413 (too large), 415 (content type).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import auth, safexml, service
from .ack import Acknowledgement
from .models import Channel, Status

XML_TYPES = {"application/xml", "text/xml", "application/hl7-cda+xml", "application/hl7-v3+xml"}
ZIP_TYPES = {"application/zip", "application/x-zip-compressed", "application/octet-stream"}
CHUNK = 64 * 1024


def _error(status: int, code: str, text: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"status": "rejected", "messages": [
        {"level": "error", "item_id": "*", "path": "", "code": code, "text": text}]}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _limit() -> int:
    # A zip may hold several documents: allow a little more than one document.
    return safexml.max_bytes() * 2


def _read_body(request: HttpRequest, limit: int) -> bytes | None:
    """The body, read in chunks (request.body would refuse anything above
    DATA_UPLOAD_MAX_MEMORY_SIZE); None when it exceeds ``limit``."""
    chunks, size = [], 0
    while True:
        chunk = request.read(CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


@csrf_exempt  # a machine-to-machine API authenticated by bearer token, no cookies
def documents(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return _error(405, "method", "Seule la méthode POST est acceptée.", Allow="POST")
    credential = auth.authenticate(auth.bearer(request.headers.get("Authorization", "")))
    if credential is None:
        return _error(401, "unauthorized", "Jeton d'accès absent, invalide ou révoqué.", **{"WWW-Authenticate": 'Bearer realm="bamara-cda"'})
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return _error(400, "content_length", "En-tête Content-Length illisible.")
    if declared <= 0:
        return _error(400, "empty", "Corps de requête vide.")
    content_type = (request.content_type or "").lower()
    if content_type not in XML_TYPES | ZIP_TYPES:
        return _error(415, "content_type", "Type de contenu attendu : application/xml (document CDA) ou application/zip (XDM).")
    limit = _limit()
    if declared > limit:
        return _error(413, "too_large", f"Document trop volumineux ({declared} octets, {limit} au plus).")
    body = _read_body(request, limit)
    if body is None:
        return _error(413, "too_large", f"Document trop volumineux (plus de {limit} octets).")
    if not body:
        return _error(400, "empty", "Corps de requête vide.")
    filename = request.headers.get("X-Filename", "")[:200]
    acks = service.receive(body, hospital=credential.hospital, channel=Channel.HTTP, credential=credential,
                           filename=filename, message_id=request.headers.get("X-Message-Id", "")[:200])
    return JsonResponse(payload(acks), status=http_status(acks), json_dumps_params={"ensure_ascii": False})


def http_status(acks: list[Acknowledgement]) -> int:
    if any(ack.status == Status.REJECTED for ack in acks):
        return 422
    if all(ack.status == Status.ACCEPTED for ack in acks):
        return 200
    return 202


def payload(acks: list[Acknowledgement]) -> dict:
    statuses = {str(ack.status) for ack in acks}
    overall = next((s for s in ("rejected", "warnings", "ignored") if s in statuses), "accepted")
    body: dict = {"status": overall, "documents": [ack.as_dict() for ack in acks]}
    if len(acks) == 1:
        body = {**acks[0].as_dict(), "documents": body["documents"]}
    return body

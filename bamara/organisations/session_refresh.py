"""Sliding session expiry without a database write on every request.

`SESSION_SAVE_EVERY_REQUEST` rewrote the session row (BEGIN, UPDATE, COMMIT) on each page
and search. Instead the session is marked modified, hence saved with a new expiry, when its
last refresh is more than `REFRESH_SECONDS` old: an idle session still ends
`SESSION_COOKIE_AGE` after the last activity, give or take that minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

REFRESH_SECONDS = 60
KEY = "_bamara_refreshed"


class SessionRefreshMiddleware:
    """Right after SessionMiddleware (so that it runs before the session is saved)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only a session that exists (a logged-in or otherwise used one) is kept alive.
        if session is not None and session.session_key and not session.is_empty():
            now = int(time.time())
            if session.modified or now - int(session.get(KEY, 0)) >= REFRESH_SECONDS:
                session[KEY] = now
        return response

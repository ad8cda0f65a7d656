"""Page text for "this number must not appear" assertions: CSRF tokens are random
alphanumerics and contain digits now and then."""

from __future__ import annotations

import re

from django.http import HttpResponse

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def content_without_tokens(response: HttpResponse) -> str:
    return _TOKEN.sub('name="csrfmiddlewaretoken" value=""', response.content.decode())

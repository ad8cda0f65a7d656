"""Sliding session expiry, written at most once a minute (organisations/session_refresh.py)."""

from unittest import mock

from django.contrib.sessions.models import Session

from bamara.organisations import session_refresh


def _expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_it_does_not_write_the_session_on_every_request(client, world):
    client.force_login(world.users["saisie"])
    client.get("/")
    first = _expiry(client)
    client.get("/")
    assert _expiry(client) == first


def test_it_slides_the_expiry_once_the_last_refresh_is_a_minute_old(client, world):
    client.force_login(world.users["saisie"])
    client.get("/")
    first = _expiry(client)
    later = session_refresh.time.time() + session_refresh.REFRESH_SECONDS + 5
    with mock.patch.object(session_refresh.time, "time", return_value=later), \
            mock.patch("django.contrib.sessions.backends.base.timezone.now",
                       return_value=first.__class__.fromtimestamp(later, first.tzinfo)):
        client.get("/")
    assert _expiry(client) > first


def test_it_leaves_anonymous_visitors_without_a_session(client, db):
    client.get("/comptes/connexion/")
    assert Session.objects.count() == 0

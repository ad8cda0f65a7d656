"""Saved filters: per user, saved from the list page, reopened, replaced, deleted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bamara.lists.models import SavedFilter

SAVE = reverse("lists:save_filter")
DELETE = reverse("lists:delete_filter")
LIST = reverse("lists:patients")


@pytest.fixture
def saisie(client, listed):
    client.force_login(listed.users["saisie"])
    return client


def test_it_saves_the_current_filters_and_lists_them_for_their_owner_only(saisie, client, listed):
    response = saisie.post(SAVE, {"name": "Muco garçons", "query": "orpha=586&sexe=M&page=3"})
    assert response.status_code == 302 and response.url == f"{LIST}?orpha=586&sexe=M"
    saved = SavedFilter.objects.get()
    assert (saved.user, saved.query) == (listed.users["saisie"], "orpha=586&sexe=M")
    page = saisie.get(LIST).content.decode()
    assert "Muco garçons" in page and "?orpha=586&amp;sexe=M" in page
    client.force_login(listed.users["referent"])
    assert "Muco garçons" not in client.get(LIST).content.decode()


def test_it_replaces_a_filter_saved_under_the_same_name(saisie):
    saisie.post(SAVE, {"name": "Mes patients", "query": "sexe=F"})
    saisie.post(SAVE, {"name": "Mes patients", "query": "sexe=M"})
    assert list(SavedFilter.objects.values_list("query", flat=True)) == ["sexe=M"]


def test_it_asks_for_a_name(saisie):
    response = saisie.post(SAVE, {"name": " ", "query": "sexe=F"}, follow=True)
    assert "Donnez un nom au filtre" in response.content.decode()
    assert not SavedFilter.objects.exists()


def test_it_deletes_only_the_users_own_filters(saisie, listed):
    mine = SavedFilter.objects.create(user=listed.users["saisie"], name="a", query="sexe=F")
    theirs = SavedFilter.objects.create(user=listed.users["referent"], name="b", query="sexe=M")
    response = saisie.post(DELETE, {"filtre": theirs.pk}, follow=True)
    assert "Ce filtre n&#x27;existe pas." in response.content.decode()
    assert SavedFilter.objects.filter(pk=theirs.pk).exists()
    saisie.post(DELETE, {"filtre": "abc"})
    saisie.post(DELETE, {"filtre": mine.pk})
    assert list(SavedFilter.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_it_refuses_saving_without_a_site(client, listed):
    from bamara.accounts.testing import login_verified

    login_verified(client, listed.users["national"])
    assert client.post(SAVE, {"name": "x", "query": ""}).status_code == 404
    assert client.get(SAVE).status_code == 405

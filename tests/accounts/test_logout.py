from django.contrib.auth import get_user


def test_it_refuses_to_log_out_on_get(client, world):
    client.force_login(world["clinician"])
    assert client.get("/deconnexion/").status_code == 405
    assert get_user(client).is_authenticated


def test_it_logs_out_on_post_and_says_so(client, world):
    client.force_login(world["clinician"])
    response = client.post("/deconnexion/", follow=True)
    assert not get_user(client).is_authenticated
    assert response.redirect_chain[-1][0] == "/connexion/"
    assert "Vous êtes déconnecté(e)." in response.content.decode()

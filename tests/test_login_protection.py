"""Both sign-in pages resist guessing: a lockout per user and address, with a clear page."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGINS = ["/accounts/login/", "/admin/login/"]


@pytest.fixture
def limit(settings) -> int:
    settings.AXES_FAILURE_LIMIT = 3
    return 3


def _sign_in(client, url: str, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("url", LOGINS)
def test_it_locks_the_account_out_after_the_failure_limit_even_with_the_right_password(
    client, url, limit
):
    user = UserFactory(username="bob", is_staff=True)
    user.set_password("the-right-password")
    user.save()

    for _ in range(limit):
        _sign_in(client, url, "bob", "wrong")
    response = _sign_in(client, url, "bob", "the-right-password")

    assert response.status_code == 429
    assert "Sign-in paused" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_user_and_address(client, limit):
    user = UserFactory(username="carol")
    user.set_password("the-right-password")
    user.save()
    for _ in range(limit):
        _sign_in(client, LOGINS[0], "carol", "wrong", address="10.0.0.66")

    # The same account from another address still signs in.
    response = _sign_in(client, LOGINS[0], "carol", "the-right-password", address="10.0.0.7")

    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


def test_a_success_before_the_limit_resets_the_count(client, limit):
    user = UserFactory(username="dana")
    user.set_password("the-right-password")
    user.save()
    for _ in range(limit - 1):
        _sign_in(client, LOGINS[0], "dana", "wrong")
    assert _sign_in(client, LOGINS[0], "dana", "the-right-password").status_code == 302
    client.logout()

    for _ in range(limit - 1):
        _sign_in(client, LOGINS[0], "dana", "wrong")

    assert _sign_in(client, LOGINS[0], "dana", "the-right-password").status_code == 302


def test_managers_see_the_failed_attempts_in_the_admin(client, manager, limit):
    for _ in range(limit):
        _sign_in(client, LOGINS[0], "mallory", "guess")
    client.force_login(manager)

    page = client.get(reverse("admin:axes_accessattempt_changelist"))

    assert page.status_code == 200 and "mallory" in page.content.decode()


def test_agents_do_not_see_the_attempts(client, agent):
    client.force_login(agent)
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403


def test_passwords_are_checked_by_the_full_set_of_validators():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ["password123", "12345678901", "short"]:
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("correct horse battery staple")

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tickets.models import AgentProfile
from tickets.roles import is_agent, is_manager

pytestmark = pytest.mark.django_db


def test_it_creates_the_demo_accounts_once_with_working_passwords(capsys):
    call_command("seed_demo")
    call_command("seed_demo")

    users = get_user_model().objects
    assert users.count() == 4
    alice, bob, dana = (
        users.get(username="alice"),
        users.get(username="bob"),
        users.get(username="dana"),
    )
    assert alice.check_password("alice-demo-pw") and not alice.is_staff
    assert is_agent(bob) and bob.is_staff and AgentProfile.objects.get(user=bob).available
    assert is_manager(dana) and dana.is_staff
    assert AgentProfile.objects.count() == 2
    assert "dana-demo-pw" in capsys.readouterr().out

"""Demo accounts: one end user, two available agents and a manager, with known passwords."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from tickets.models import AgentProfile
from tickets.roles import AGENTS, MANAGERS, ensure_groups


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    first_name: str
    last_name: str
    group: str | None  # None: an end user of the portal


# Known passwords on purpose: these accounts exist to be tried out, never in production.
DEMO_ACCOUNTS = (
    DemoAccount("alice", "alice-demo-pw", "Alice", "Martin", None),
    DemoAccount("bob", "bob-demo-pw", "Bob", "Agent", AGENTS),
    DemoAccount("carol", "carol-demo-pw", "Carol", "Agent", AGENTS),
    DemoAccount("dana", "dana-demo-pw", "Dana", "Manager", MANAGERS),
)


class Command(BaseCommand):
    help = "Create the demo user, agents and manager (safe to run again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="Where the app is served."
        )

    def handle(self, *args: object, url: str, **options: object) -> None:
        with transaction.atomic():
            ensure_groups()
            for account in DEMO_ACCOUNTS:
                self._ensure(account)
        self.stdout.write(self.style.SUCCESS("Demo accounts ready:"))
        for account in DEMO_ACCOUNTS:
            role = {None: "end user", AGENTS: "agent", MANAGERS: "manager"}[account.group]
            where = f"{url}/" if account.group is None else f"{url}/admin/"
            self.stdout.write(
                f"  {role:9} {account.username:6} password {account.password:14} -> {where}"
            )

    def _ensure(self, account: DemoAccount) -> None:
        user, _ = get_user_model().objects.get_or_create(username=account.username)
        user.first_name, user.last_name = account.first_name, account.last_name
        user.email = f"{account.username}@example.com"
        user.is_staff = account.group is not None
        user.set_password(account.password)
        user.save()
        if account.group is None:
            return
        user.groups.add(Group.objects.get(name=account.group))
        if account.group == AGENTS:
            AgentProfile.objects.update_or_create(user=user, defaults={"available": True})

"""Factories for the tests: users in their roles, tickets, messages, model versions."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from assistant.models import ModelVersion
from tickets.models import AgentProfile, Message, Role, Ticket
from tickets.roles import AGENTS, MANAGERS


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests")


class AgentFactory(UserFactory):
    username = factory.Sequence(lambda n: f"agent{n}")
    is_staff = True

    @factory.post_generation
    def agent_setup(self, create: bool, extracted: object, **kwargs: object) -> None:
        if not create:
            return
        self.groups.add(Group.objects.get(name=AGENTS))
        AgentProfile.objects.get_or_create(
            user=self, defaults={"available": kwargs.get("available", True)}
        )


class ManagerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"manager{n}")
    is_staff = True

    @factory.post_generation
    def manager_setup(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.groups.add(Group.objects.get(name=MANAGERS))


class ModelVersionFactory(DjangoModelFactory):
    class Meta:
        model = ModelVersion

    name = factory.Sequence(lambda n: f"model-{n}")
    base_model_path = "/nonexistent/base"


class TicketFactory(DjangoModelFactory):
    class Meta:
        model = Ticket

    subject = factory.Sequence(lambda n: f"Printer problem {n}")
    requester = factory.SubFactory(UserFactory)


class MessageFactory(DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    author = factory.LazyAttribute(lambda m: m.ticket.requester)
    role = Role.USER
    body = "My printer does not print."

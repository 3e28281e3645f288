"""Shared fixtures: users in each role."""

import os

import pytest

# pytest-playwright runs an event loop in the main thread; Django's ORM refuses to run
# there unless told the tests know what they are doing.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def user(db: None):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def agent(db: None):
    from tests.factories import AgentFactory

    return AgentFactory()


@pytest.fixture
def manager(db: None):
    from tests.factories import ManagerFactory

    return ManagerFactory()

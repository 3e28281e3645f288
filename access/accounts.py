"""The account acting in the admin, whose site lets in signed-in active staff only."""

from typing import cast

from django.contrib.auth.models import User
from django.http import HttpRequest


def signed_in_user(request: HttpRequest) -> User:
    """The user of an admin request, as the type checker cannot tell it.

    Every request's user reads as `User | AnonymousUser`, and an admin method cannot declare
    a narrower request (it overrides ModelAdmin's); the admin never lets an anonymous one in.
    """
    return cast(User, request.user)

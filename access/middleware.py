"""The request being served, for signal receivers that record who made a change."""

from collections.abc import Callable
from contextvars import ContextVar

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse

# Model signals carry no request; this is how a receiver learns the acting user.
_current_request: ContextVar[HttpRequest | None] = ContextVar("access_request", default=None)


class ActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def in_request() -> bool:
    return _current_request.get() is not None


def current_actor() -> User | None:
    """The signed-in user of the request being served; None outside one (shell, commands)."""
    user = getattr(_current_request.get(), "user", None)
    return user if user is not None and user.is_authenticated else None

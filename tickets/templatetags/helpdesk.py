"""Template filters of the portal and the agents' workspace."""

from django import template
from django.contrib.auth.models import User
from django.utils.safestring import SafeString

from tickets.rendering import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return render_markdown(text or "")


@register.filter
def percent(value: float | None) -> str:
    """A confidence in [0, 1] as a whole percentage; blank when there is none."""
    if value is None:
        return ""
    return f"{round(float(value) * 100)}%"


@register.filter
def person_name(user: User | None, fallback: str = "Support") -> str:
    """How the portal names an agent: full name, else username; a deleted user gets `fallback`."""
    if user is None:
        return fallback
    return user.get_full_name() or user.get_username()

"""Filters of the training admin's templates."""

from django import template

register = template.Library()


@register.filter
def figure(value: object) -> str:
    """A report figure as managers read it: three decimals, a dash when there is none."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)

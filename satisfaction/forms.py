"""The rating form the portal and the e-mail's page share, and the texts people read on it."""

from django import forms

from .models import COMMENT_MAX_CHARS, Score

NO_SCORE = "Please choose a score from 1 to 5."
TOO_LONG = f"Please keep your comment under {COMMENT_MAX_CHARS} characters."


class CommentField(forms.CharField):
    def widget_attrs(self, widget: forms.Widget) -> dict[str, str]:
        # No maxlength in the HTML: the browser would cut a pasted text silently, while the
        # server says what is wrong and keeps the text to shorten.
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label="How satisfied are you with how your ticket was handled?",
        choices=[(value, f"{value} – {label}") for value, label in Score.choices],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": NO_SCORE, "invalid_choice": NO_SCORE},
    )
    comment = CommentField(
        label="Anything you would like to tell us? (optional)",
        required=False,
        max_length=COMMENT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": TOO_LONG},
    )


def preselected(score: str | None) -> RatingForm:
    """An unbound form with the score of the link that was followed already chosen."""
    initial = {"score": int(score)} if score in {str(v) for v in Score.values} else {}
    return RatingForm(initial=initial)

"""Forms of the portal and the agents' reply box; the error texts users and agents read."""

from typing import Any

from django import forms
from django.conf import settings

from assistant.models import ModelVersion

from .models import Category, CorrectionReason

EMPTY_MESSAGE = "Please write a message before sending."


def _too_long() -> str:
    return (
        f"Your message is too long: please keep it under {settings.MESSAGE_MAX_CHARS} "
        "characters (about four pages)."
    )


class MessageBodyField(forms.CharField):
    """The text a person sends: required, stripped, at most MESSAGE_MAX_CHARS."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", settings.MESSAGE_MAX_CHARS)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        kwargs.setdefault("error_messages", {"required": EMPTY_MESSAGE, "max_length": _too_long()})
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, str]:
        # No maxlength in the HTML: the browser would cut a pasted text silently,
        # while the server says clearly what is wrong.
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


def _model_choice() -> forms.ModelChoiceField[ModelVersion]:
    return forms.ModelChoiceField(
        queryset=ModelVersion.offered(),
        required=False,
        empty_label="Default model",
        label="Model",
    )


class NewTicketForm(forms.Form):
    body = MessageBodyField(
        label="How can we help?",
        widget=forms.Textarea(
            attrs={"rows": 5, "placeholder": "Describe the problem in your own words…"}
        ),
    )
    subject = forms.CharField(
        max_length=settings.SUBJECT_MAX_CHARS,
        required=False,
        help_text="Optional: we use your first line if you leave it blank.",
    )
    category = forms.ChoiceField(choices=Category.choices, initial=Category.GENERAL)
    model_version = _model_choice()


class MessageForm(forms.Form):
    body = MessageBodyField(
        label="Your message",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Write a message…"}),
    )


class ModelSwitchForm(forms.Form):
    model_version = _model_choice()


class RatingForm(forms.Form):
    helpful = forms.TypedChoiceField(
        choices=[("1", "Helpful"), ("0", "Not helpful")], coerce=lambda v: v == "1"
    )


class AgentReplyForm(forms.Form):
    body = MessageBodyField(
        label="Reply to the user", widget=forms.Textarea(attrs={"rows": 8, "cols": 90})
    )
    reason = forms.ChoiceField(
        choices=CorrectionReason.choices,
        label="Why the draft needed changing",
        help_text="Kept with the training example when you started from the assistant's draft.",
    )
    draft = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # The macro the text came from, counted when the reply is sent.
    macro = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # What the page showed (tickets.collision.PageStamp): a changed ticket refuses the send.
    seen_message = forms.IntegerField(required=False, widget=forms.HiddenInput)
    seen_assignee = forms.IntegerField(required=False, widget=forms.HiddenInput)
    seen_status = forms.CharField(required=False, widget=forms.HiddenInput)
    # Which button: "Send reply" to the user, or "Add internal note" for the desk.
    send = forms.ChoiceField(
        choices=[("reply", "Send reply"), ("note", "Add internal note")],
        required=False,
        widget=forms.HiddenInput,
    )

    def clean_send(self) -> str:
        return str(self.cleaned_data.get("send") or "reply")

    @property
    def is_note(self) -> bool:
        return self.cleaned_data.get("send") == "note"

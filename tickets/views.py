"""Portal views for end users: their tickets, the chat, and the buttons around it."""

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling, push_url, reswap, retarget
from django_htmx.middleware import HtmxDetails

from . import lifecycle
from .forms import MessageForm, ModelSwitchForm, NewTicketForm, RatingForm
from .models import AnswerStatus, EscalationReason, Message, MessageRating, Role, Status, Ticket
from .signals import message_rated

TICKETS_PER_PAGE = 20
# Fast while the assistant writes (an answer takes seconds); slower while people hold the
# ticket, so an agent's reply still shows up in an open chat.
POLL_WHILE_ASSISTANT = "every 2s"
POLL_WHILE_HUMANS = "every 5s"
# Users rate the answers they got; the hand-off notes of the system are not answers.
RATED_ROLES = (Role.ASSISTANT, Role.AGENT)
CLOSED_MESSAGE = "This ticket is closed, so it takes no new messages. Please open a new ticket."
# The portal's templates compare statuses and roles with these, never with spelled-out values.
TEMPLATE_ENUMS = {"Status": Status, "Role": Role, "EscalationReason": EscalationReason}
# The chat page; its partials are the htmx swaps of the chat.
CHAT = "tickets/detail.html"


class PortalRequest(HttpRequest):
    """A request as the portal's views get it: signed in (each view is login_required) and
    read by django-htmx's middleware."""

    user: User
    htmx: HtmxDetails


def _render(
    request: PortalRequest, template_name: str, context: Mapping[str, object]
) -> HttpResponse:
    return render(request, template_name, {**TEMPLATE_ENUMS, **context})


def _own_ticket(request: PortalRequest, pk: int) -> Ticket:
    """The requester's ticket or 404: another user's ticket looks exactly like a missing one."""
    tickets = Ticket.objects.select_related("model_version", "assigned_to")
    return get_object_or_404(tickets, pk=pk, requester=request.user)


# --- the list of my tickets -------------------------------------------------


def _my_tickets(request: PortalRequest) -> QuerySet[Ticket]:
    last_visible = (
        Message.objects.visible_to_requester()
        .filter(ticket=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values("body")[:1]
    )
    return (
        Ticket.objects.filter(requester=request.user)
        .annotate(last_body=Subquery(last_visible))
        .order_by("-updated_at", "-pk")
    )


def _page(request: PortalRequest) -> Page[Ticket]:
    return Paginator(_my_tickets(request), TICKETS_PER_PAGE).get_page(request.GET.get("page"))


@require_GET
@login_required
def ticket_list(request: PortalRequest) -> HttpResponse:
    context = {"page": _page(request)}
    if request.htmx and request.htmx.target == "ticket-list":
        return _render(request, "tickets/list.html#ticket_list", context)
    return _render(request, "tickets/list.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def new_ticket(request: PortalRequest) -> HttpResponse:
    form = NewTicketForm(request.POST or None)
    if request.method == "GET" or not form.is_valid():
        return _render(request, "tickets/new.html", {"form": form})
    ticket = lifecycle.open_ticket(
        request.user,
        form.cleaned_data["body"],
        subject=form.cleaned_data["subject"],
        category=form.cleaned_data["category"],
        model_version=form.cleaned_data["model_version"],
    )
    if request.htmx:
        # The chat replaces the form in place; the address bar follows without a reload.
        ticket = _own_ticket(request, ticket.pk)
        response = _render(request, CHAT, _chat_context(request, ticket))
        return push_url(response, ticket.get_absolute_url())
    return redirect(ticket)


# --- the chat ---------------------------------------------------------------


@dataclass(frozen=True)
class ChatCursor:
    """What an open chat shows; its poll sends this back and gets only what is newer."""

    after: int  # the highest id among the messages it shows
    seen: int  # how many messages it shows
    state: str  # _chat_state() of the ticket as its bar shows it

    @classmethod
    def from_query(cls, query: QueryDict) -> "ChatCursor | None":
        after, seen, state = query.get("after"), query.get("seen"), query.get("state")
        if after is None or seen is None or state is None:
            return None
        try:
            return cls(int(after), int(seen), state)
        except ValueError:
            return None

    def as_query(self) -> str:
        return urlencode({"after": self.after, "seen": self.seen, "state": self.state})


def _is_pending(ticket: Ticket) -> bool:
    if ticket.status == Status.AWAITING_ASSISTANT:
        return True
    waiting = (AnswerStatus.PENDING, AnswerStatus.RUNNING)
    return ticket.answer_requests.filter(status__in=waiting).exists()


def _poll_trigger(ticket: Ticket, pending: bool) -> str:
    if pending:
        return POLL_WHILE_ASSISTANT
    if ticket.is_with_humans or ticket.status == Status.REOPENED:
        return POLL_WHILE_HUMANS
    return ""  # settled: the poller renders without hx-trigger, so polling stops


def _chat_state(ticket: Ticket, pending: bool) -> str:
    """Everything the ticket bar, the typing bubble and the poll's pace are drawn from."""
    return f"{ticket.status}.{ticket.assigned_to_id or 0}.{int(pending)}"


def _conversation(request: PortalRequest, ticket: Ticket, after: int = 0) -> list[Message]:
    """The visible messages with ids above `after`, each with the user's rating of it."""
    shown = list(
        ticket.messages.visible_to_requester()
        .filter(pk__gt=after)
        .select_related("author", "model_version")
    )
    ratings = dict(
        MessageRating.objects.filter(
            user=request.user, message__ticket=ticket, message__pk__gt=after
        ).values_list("message_id", "helpful")
    )
    for message in shown:
        message.my_rating = ratings.get(message.pk)
    return shown


def _poll_context(
    ticket: Ticket, pending: bool, shown: list[Message], before: ChatCursor | None = None
) -> dict[str, object]:
    """The poller's context once the chat also shows `shown`, after what `before` had."""
    after = before.after if before else 0
    seen = before.seen if before else 0
    cursor = ChatCursor(
        after=max((m.pk for m in shown), default=after),
        seen=seen + len(shown),
        state=_chat_state(ticket, pending),
    )
    return {
        "pending": pending,
        "poll_trigger": _poll_trigger(ticket, pending),
        "poll_query": cursor.as_query(),
    }


def _chat_context(
    request: PortalRequest, ticket: Ticket, form: MessageForm | None = None
) -> dict[str, object]:
    # Read before the messages: a chat never stops polling short of the last message.
    pending = _is_pending(ticket)
    shown = _conversation(request, ticket)
    return {
        "ticket": ticket,
        "chat_messages": shown,
        **_poll_context(ticket, pending, shown),
        "form": form or MessageForm(),
        "model_form": ModelSwitchForm(initial={"model_version": ticket.model_version_id}),
        "rated_roles": RATED_ROLES,
    }


def _conversation_response(
    request: PortalRequest, ticket: Ticket, *, fresh_composer: bool = False
) -> HttpResponse:
    """The whole message list, plus out-of-band the ticket bar, the poller (and a composer)."""
    ticket = _own_ticket(request, ticket.pk)  # re-read: the lifecycle may have changed it
    context = _chat_context(request, ticket)
    context.update(oob=True, fresh_composer=fresh_composer)
    return _render(request, f"{CHAT}#conversation_update", context)


def _has_all_up_to(ticket: Ticket, cursor: ChatCursor) -> bool:
    """Whether the chat holds every visible message up to its cursor's id. Ids are handed
    out before commit, so a message can commit after one with a higher id was shown."""
    visible = ticket.messages.visible_to_requester()
    return visible.filter(pk__lte=cursor.after).count() == cursor.seen


def _poll_response(
    request: PortalRequest, template_name: str, context: dict[str, object]
) -> HttpResponse:
    """Once the ticket is settled nothing more will come, so the answer also ends the polling."""
    if context["poll_trigger"]:
        return _render(request, template_name, context)
    html = render_to_string(template_name, {**TEMPLATE_ENUMS, **context}, request=request)
    return HttpResponseStopPolling(html)


@require_GET
@login_required
def ticket_detail(request: PortalRequest, pk: int) -> HttpResponse:
    ticket = _own_ticket(request, pk)
    return _render(request, CHAT, _chat_context(request, ticket))


@require_GET
@login_required
def conversation(request: PortalRequest, pk: int) -> HttpResponse:
    """The chat's poll: the messages newer than its cursor, and the ticket bar if it changed."""
    ticket = _own_ticket(request, pk)
    if not request.htmx:
        return redirect(ticket)
    cursor = ChatCursor.from_query(request.GET)
    if cursor is None or not _has_all_up_to(ticket, cursor):
        context = {**_chat_context(request, ticket), "oob": True}
        response = _poll_response(request, f"{CHAT}#conversation_update", context)
        return reswap(response, "outerHTML")  # in place of the chat's, not after it
    pending = _is_pending(ticket)
    newer = _conversation(request, ticket, after=cursor.after)
    context = _poll_context(ticket, pending, newer, before=cursor)
    bar_changed = _chat_state(ticket, pending) != cursor.state
    if not newer and not bar_changed:
        return HttpResponse(status=204) if context["poll_trigger"] else HttpResponseStopPolling()
    context.update(
        ticket=ticket,
        chat_messages=newer,
        rated_roles=RATED_ROLES,
        bar_changed=bar_changed,
        oob=True,
    )
    return _poll_response(request, f"{CHAT}#newer_messages", context)


@require_POST
@login_required
def post_message(request: PortalRequest, pk: int) -> HttpResponse:
    ticket = _own_ticket(request, pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            lifecycle.post_user_message(ticket, request.user, form.cleaned_data["body"])
        except lifecycle.TicketClosed:
            form.add_error(None, CLOSED_MESSAGE)
    if form.errors:
        return _refused_message(request, ticket, form)
    if request.htmx:
        return _conversation_response(request, ticket, fresh_composer=True)
    return redirect(ticket)


def _refused_message(request: PortalRequest, ticket: Ticket, form: MessageForm) -> HttpResponse:
    """Show why the message was refused, keeping what the user typed in the box."""
    if request.htmx:
        response = _render(request, f"{CHAT}#composer", {"ticket": ticket, "form": form})
        return reswap(retarget(response, "#composer"), "outerHTML")
    return _render(request, CHAT, _chat_context(request, ticket, form))


# --- the buttons around the chat --------------------------------------------


def _after_action(request: PortalRequest, ticket: Ticket) -> HttpResponse:
    if request.htmx:
        return _conversation_response(request, ticket)
    return redirect(ticket)


@require_POST
@login_required
def ask_for_human(request: PortalRequest, pk: int) -> HttpResponse:
    ticket = _own_ticket(request, pk)
    # After a thumbs-down the chat asks "Get a person?": the reason says the answer failed.
    not_helpful = request.POST.get("because") == EscalationReason.NOT_HELPFUL
    reason = EscalationReason.NOT_HELPFUL if not_helpful else EscalationReason.USER_REQUEST
    try:
        lifecycle.request_human(ticket, request.user, reason)
    except lifecycle.IllegalTransition:
        messages.error(request, "This ticket can no longer be handed to a person.")
    return _after_action(request, ticket)


@require_POST
@login_required
def mark_solved(request: PortalRequest, pk: int) -> HttpResponse:
    ticket = _own_ticket(request, pk)
    try:
        lifecycle.mark_solved(ticket, request.user)
    except lifecycle.IllegalTransition:
        messages.error(request, "This ticket is already closed.")
    else:
        messages.success(request, "Glad it's solved! Write again here if it comes back.")
    return _after_action(request, ticket)


@require_POST
@login_required
def choose_model(request: PortalRequest, pk: int) -> HttpResponse:
    ticket = _own_ticket(request, pk)
    form = ModelSwitchForm(request.POST)
    if form.is_valid():
        ticket = lifecycle.choose_model(ticket, form.cleaned_data["model_version"], request.user)
    elif not request.htmx:
        messages.error(request, "That model is not offered any more; pick another one.")
    if request.htmx:
        context = {"ticket": ticket, "model_form": form, "saved": form.is_valid()}
        return _render(request, f"{CHAT}#model_switch", context)
    return redirect(ticket)


@require_POST
@login_required
def rate_message(request: PortalRequest, pk: int, message_id: int) -> HttpResponse:
    ticket = _own_ticket(request, pk)
    rated = Message.objects.visible_to_requester().filter(role__in=RATED_ROLES)
    message = get_object_or_404(rated, pk=message_id, ticket=ticket)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("helpful must be 1 or 0")
    helpful = form.cleaned_data["helpful"]
    MessageRating.objects.update_or_create(
        message=message, user=request.user, defaults={"helpful": helpful}
    )
    message_rated.send(sender=MessageRating, message=message, user=request.user, helpful=helpful)
    if request.htmx:
        message.my_rating = helpful
        return _render(request, f"{CHAT}#rating", {"ticket": ticket, "m": message})
    return redirect(f"{ticket.get_absolute_url()}#m{message.pk}")

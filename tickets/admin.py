"""The agents' workspace in the Django admin: the ticket queue, the conversation, replies."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, ActionForm
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, ForeignKey, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from access.accounts import signed_in_user
from access.matrix import AGENTS, MANAGERS, MatrixPermissions

from . import lifecycle
from .forms import AgentReplyForm
from .models import (
    ACTIVE_STATUSES,
    AgentProfile,
    CorrectionReason,
    Message,
    Role,
    Ticket,
)
from .roles import is_agent

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

TicketChange = Callable[[Ticket, User], Ticket]

# The transitions agents trigger, by name; the changelist actions and the buttons on the
# change page both go through this table.
TICKET_ACTIONS: dict[str, tuple[str, TicketChange]] = {
    "take": ("taken", lambda ticket, agent: lifecycle.assign(ticket, agent, actor=agent)),
    "unassign": ("given back to the queue", lambda t, agent: lifecycle.unassign(t, actor=agent)),
    "resolve": ("resolved", lambda ticket, agent: lifecycle.resolve(ticket, agent)),
    "close": ("closed", lambda ticket, agent: lifecycle.close(ticket, agent)),
}


def _agents() -> QuerySet[User]:
    return get_user_model().objects.filter(agent_profile__isnull=False, is_active=True)


class AssignedFilter(admin.SimpleListFilter):
    title = "assignment"
    parameter_name = "assigned"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Ticket]
    ) -> list[tuple[str, str]]:
        return [("me", "Assigned to me"), ("none", "Unassigned")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        if self.value() == "me":
            return queryset.filter(assigned_to=signed_in_user(request))
        if self.value() == "none":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


class TicketActionForm(ActionForm):
    agent = forms.ModelChoiceField(queryset=_agents(), required=False, label="Agent (for reassign)")


def _reply_session_key(ticket_id: int) -> str:
    return f"admin-reply-body-{ticket_id}"


@admin.register(Ticket)
class TicketAdmin(MatrixPermissions[Ticket], admin.ModelAdmin[Ticket]):
    list_display = (
        "id",
        "subject",
        "status",
        "priority",
        "category",
        "requester",
        "assigned_to",
        "escalation_reason",
        "updated_at",
    )
    list_display_links = ("id", "subject")
    list_filter = (
        "status",
        AssignedFilter,
        "escalation_reason",
        "priority",
        "category",
    )
    search_fields = ("subject", "requester__username", "requester__email", "messages__body")
    list_select_related = ("requester", "assigned_to")
    # A queue page agents scan at a glance; each row costs about 2 ms of rendering.
    list_per_page = 25
    # The unfiltered total is a second COUNT over the whole table on every page view.
    show_full_result_count = False
    # Facet counts run one COUNT per filter choice: seconds at 100k tickets.
    show_facets = admin.ShowFacets.NEVER
    ordering = ("-updated_at", "-pk")
    fields = (
        "subject",
        "priority",
        "category",
        "status",
        "requester",
        "assigned_to",
        "model_version",
        "escalation_reason",
        "escalated_at",
        "assigned_at",
        "resolved_at",
        "created_at",
        "updated_at",
    )
    # Only the lifecycle writes status and assignment; the form edits the descriptive fields.
    readonly_fields = fields[3:]
    action_form = TicketActionForm
    actions = ("take", "reassign", "unassign", "resolve", "close")
    change_form_template = "admin/tickets/ticket/change_form.html"
    change_list_template = "admin/tickets/ticket/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tickets start from a user's first message in the portal

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, ticket: Ticket) -> SafeString:
        # The same markup as Django's, without a template render per row: that render was
        # a third of the changelist's time at 50 rows.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" '
            'aria-label="Select this object for an action - {}">',
            ACTION_CHECKBOX_NAME,
            ticket.pk,
            ticket,
        )

    # --- actions ------------------------------------------------------------

    def _apply(
        self, request: HttpRequest, tickets: QuerySet[Ticket] | list[Ticket], name: str
    ) -> None:
        done_label, change = TICKET_ACTIONS[name]
        done = 0
        for ticket in tickets:
            try:
                change(ticket, signed_in_user(request))
            except lifecycle.IllegalTransition:
                self.message_user(
                    request,
                    f"#{ticket.pk} is {ticket.get_status_display().lower()}: it cannot be "
                    f"{done_label}.",
                    messages.ERROR,
                )
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} ticket(s) {done_label}.", messages.SUCCESS)

    @admin.action(description="Take: assign to me", permissions=["change"])
    def take(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._apply(request, queryset, "take")

    @admin.action(description="Reassign to the agent chosen below", permissions=["change"])
    def reassign(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        agent_id = request.POST.get("agent")
        agent = _agents().filter(pk=agent_id).first() if agent_id else None
        if agent is None:
            self.message_user(request, "Choose the agent to reassign to.", messages.ERROR)
            return
        reassigned = 0
        for ticket in queryset:
            try:
                lifecycle.assign(ticket, agent, actor=signed_in_user(request))
                reassigned += 1
            except lifecycle.IllegalTransition:
                self.message_user(
                    request, f"#{ticket.pk} cannot be reassigned now.", messages.ERROR
                )
        if reassigned:
            self.message_user(
                request,
                f"{reassigned} ticket(s) given to {agent.get_username()}.",
                messages.SUCCESS,
            )

    @admin.action(description="Give back to the queue (unassign)", permissions=["change"])
    def unassign(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._apply(request, queryset, "unassign")

    @admin.action(description="Resolve", permissions=["change"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._apply(request, queryset, "resolve")

    @admin.action(description="Close", permissions=["change"])
    def close(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._apply(request, queryset, "close")

    # --- pages --------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        own = [
            path(
                "availability/",
                wrap(require_POST(self.availability_view)),
                name="tickets_ticket_availability",
            ),
            path(
                "<int:object_id>/reply/",
                wrap(require_POST(self.reply_view)),
                name="tickets_ticket_reply",
            ),
            path(
                "<int:object_id>/act/<slug:name>/",
                wrap(require_POST(self.act_view)),
                name="tickets_ticket_act",
            ),
        ]
        return own + super().get_urls()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "my_profile": AgentProfile.objects.filter(user=signed_in_user(request)).first(),
        }
        return super().changelist_view(request, extra_context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        ticket = self.get_object(request, object_id)
        if ticket is not None and request.method == "GET":
            extra_context = {**(extra_context or {}), **self._workspace(request, ticket)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _workspace(self, request: HttpRequest, ticket: Ticket) -> dict[str, object]:
        conversation = list(ticket.messages.select_related("author", "model_version"))
        draft = self._chosen_draft(request, ticket, conversation)
        typed = request.session.pop(_reply_session_key(ticket.pk), None)
        reply_form = AgentReplyForm(
            initial={
                "body": typed if typed is not None else (draft.body if draft else ""),
                "reason": CorrectionReason.OTHER if draft else CorrectionReason.NO_DRAFT,
                "draft": draft.pk if draft else None,
            }
        )
        return {
            "conversation": conversation,
            "events": ticket.events.select_related("actor"),
            "draft": draft,
            "reply_form": reply_form,
            "ticket_actions": [(name, label) for name, (label, _) in TICKET_ACTIONS.items()],
        }

    def _chosen_draft(
        self, request: HttpRequest, ticket: Ticket, conversation: list[Message]
    ) -> Message | None:
        """The answer the agent picked with "use as draft", else the latest hidden draft."""
        picked = request.GET.get("draft", "")
        for message in conversation:
            if str(message.pk) == picked and message.role == Role.ASSISTANT:
                return message
        hidden = [m for m in conversation if m.role == Role.ASSISTANT and not m.visible_to_user]
        return hidden[-1] if hidden else None

    def _editable_ticket(self, request: HttpRequest, object_id: int) -> Ticket:
        ticket = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, ticket):
            raise PermissionDenied
        return ticket

    def _back_to(self, ticket: Ticket, anchor: str = "") -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:tickets_ticket_change", args=[ticket.pk]) + anchor
        )

    def reply_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        ticket = self._editable_ticket(request, object_id)
        form = AgentReplyForm(request.POST)
        if not form.is_valid():
            request.session[_reply_session_key(ticket.pk)] = request.POST.get("body", "")
            for errors in form.errors.values():
                for error in errors:
                    self.message_user(request, str(error), messages.ERROR)
            return self._back_to(ticket, "#reply")
        draft_id = form.cleaned_data["draft"]
        drafts = ticket.messages.filter(role=Role.ASSISTANT)
        draft = drafts.filter(pk=draft_id).first() if draft_id else None
        reason = form.cleaned_data["reason"] if draft else CorrectionReason.NO_DRAFT
        try:
            lifecycle.agent_reply(
                ticket,
                signed_in_user(request),
                form.cleaned_data["body"],
                draft=draft,
                reason=reason,
            )
        except lifecycle.TicketClosed:
            request.session[_reply_session_key(ticket.pk)] = form.cleaned_data["body"]
            self.message_user(
                request, "This ticket is closed: it takes no replies.", messages.ERROR
            )
            return self._back_to(ticket, "#reply")
        self.message_user(request, "Reply sent: the user sees it in their chat.", messages.SUCCESS)
        return self._back_to(ticket)

    def act_view(self, request: HttpRequest, object_id: int, name: str) -> HttpResponse:
        if name not in TICKET_ACTIONS:
            raise Http404(f"No ticket action {name!r}")
        ticket = self._editable_ticket(request, object_id)
        self._apply(request, [ticket], name)
        return self._back_to(ticket)

    def availability_view(self, request: HttpRequest) -> HttpResponse:
        if not is_agent(request.user):
            raise PermissionDenied
        available = request.POST.get("available") == "1"
        lifecycle.set_availability(signed_in_user(request), available)
        state = "available: new tickets may come to you" if available else "away"
        self.message_user(request, f"You are now {state}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:tickets_ticket_changelist"))


def _agents_without_a_profile() -> QuerySet[User]:
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            is_staff=True,
            groups__name__in=[AGENTS, MANAGERS],
            agent_profile__isnull=True,
        )
        .distinct()
    )


class _OpenCount(TypedDict):
    open_count: int


@admin.register(AgentProfile)
class AgentProfileAdmin(MatrixPermissions[AgentProfile], admin.ModelAdmin[AgentProfile]):
    list_display = ("user", "available", "open_tickets", "last_assigned_at")
    list_filter = ("available",)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email")
    # Availability changes go through lifecycle.set_availability, which also drains the queue.
    readonly_fields = ("available", "last_assigned_at")
    actions = ("mark_available", "mark_away")

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgentProfile]:
        # Agents get their own profile only (the matrix's OWN grant, in the mixin).
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_count=Count(
                    "user__assigned_tickets",
                    filter=Q(user__assigned_tickets__status__in=ACTIVE_STATUSES),
                )
            )
        )

    def get_readonly_fields(
        self, request: HttpRequest, obj: AgentProfile | None = None
    ) -> list[str] | tuple[str, ...]:
        # A profile is its agent's: handed to another account, that account would receive
        # escalations. A new agent gets a new profile.
        return self.readonly_fields if obj is None else ("user", *self.readonly_fields)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        if db_field.name == "user":
            kwargs["queryset"] = _agents_without_a_profile()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Open tickets", ordering="open_count")
    def open_tickets(self, profile: "WithAnnotations[AgentProfile, _OpenCount]") -> int:
        return profile.open_count

    def _set(self, request: HttpRequest, queryset: QuerySet[AgentProfile], available: bool) -> None:
        for profile in queryset.select_related("user"):
            lifecycle.set_availability(profile.user, available, actor=signed_in_user(request))
        state = "available" if available else "away"
        self.message_user(request, f"{queryset.count()} agent(s) marked {state}.", messages.SUCCESS)

    @admin.action(description="Mark available", permissions=["change"])
    def mark_available(self, request: HttpRequest, queryset: QuerySet[AgentProfile]) -> None:
        self._set(request, queryset, True)

    @admin.action(description="Mark away", permissions=["change"])
    def mark_away(self, request: HttpRequest, queryset: QuerySet[AgentProfile]) -> None:
        self._set(request, queryset, False)

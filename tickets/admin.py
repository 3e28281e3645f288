"""The agents' workspace in the Django admin: the ticket queue, the conversation, replies."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, ActionForm
from django.contrib.admin.views.main import ORDER_VAR
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, Count, ForeignKey, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from access.accounts import signed_in_user
from access.matrix import AGENTS, MANAGERS, MatrixPermissions
from macros.models import Macro, record_use
from macros.placeholders import Subject, render
from search.tickets import search_tickets
from sla.changelist import SlaFilter, sla_due, with_clocks

from . import lifecycle, presence
from .collision import Change, PageStamp, changes_since
from .forms import AgentReplyForm
from .models import (
    ACTIVE_STATUSES,
    AgentProfile,
    CorrectionReason,
    Message,
    Role,
    Ticket,
)
from .paginator import CappedCountPaginator
from .roles import is_agent

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

TicketChange = Callable[[Ticket, User], Ticket]

# The transitions agents trigger, by name; the changelist actions and the buttons on the
# change page both go through this table.
TICKET_ACTIONS: dict[str, tuple[str, TicketChange]] = {
    # From a colleague only once confirmed (TicketAdmin._take): never a silent takeover.
    "take": ("taken", lambda ticket, agent: lifecycle.take(ticket, agent)),
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


# The reply box's form as the agent left it when it was refused, kept for the next page.
KEPT_FIELDS = ("body", "send", "reason", "draft", "macro")
WORKSPACE = "admin/tickets/ticket/workspace.html"
TAKE_CONFIRM = "admin/tickets/ticket/take_confirm.html"


def _holder_field(ticket_id: int) -> str:
    """The changelist's confirmation form names the holder each takeover was confirmed for."""
    return f"holder_{ticket_id}"


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
        sla_due,
        "updated_at",
    )
    list_display_links = ("id", "subject")
    list_filter = (
        "status",
        AssignedFilter,
        SlaFilter,
        "escalation_reason",
        "priority",
        "category",
    )
    # What the search box covers; get_search_results searches them through the full-text
    # index (search.tickets), not with Django's LIKE over every message.
    search_fields = ("subject", "messages__body", "requester__username", "requester__email")
    search_help_text = (
        "Words in the subject, the conversation (internal notes too) or the requester's name "
        'and e-mail; "wif" finds "wifi".'
    )
    list_select_related = ("requester", "assigned_to")
    # A queue page agents scan at a glance; each row costs about 2 ms of rendering.
    list_per_page = 25
    paginator = CappedCountPaginator
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ticket]:
        # Each row's SLA clock comes in the same query (sla.changelist.sla_due reads it).
        return with_clocks(request, self, super().get_queryset(request))

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

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Ticket], search_term: str
    ) -> tuple[QuerySet[Ticket], bool]:
        results = search_tickets(queryset, search_term, internal=True)
        if request.GET.get(ORDER_VAR):
            # The agent sorted by a column: that order, not relevance.
            results = results.order_by(*queryset.query.order_by)
        return results, False

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
    def take(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> HttpResponse | None:
        agent = signed_in_user(request)
        tickets = list(queryset.select_related("assigned_to"))
        held = [t for t in tickets if t.assigned_to_id not in (None, agent.pk)]
        if held and request.POST.get("confirm_takeover") != "yes":
            hidden = [("action", "take"), ("confirm_takeover", "yes")]
            hidden += [(ACTION_CHECKBOX_NAME, str(t.pk)) for t in tickets]
            hidden += [(_holder_field(t.pk), str(t.assigned_to_id)) for t in held]
            queue = reverse("admin:tickets_ticket_changelist")
            return self._takeover_page(request, held, request.get_full_path(), hidden, queue)
        taken = 0
        for ticket in tickets:
            if self._take(request, ticket, request.POST.get(_holder_field(ticket.pk))):
                taken += 1
        if taken:
            self.message_user(request, f"{taken} ticket(s) taken.", messages.SUCCESS)
        return None

    def _take(self, request: HttpRequest, ticket: Ticket, confirmed_holder: str | None) -> bool:
        """Take one ticket, a colleague's only from the holder the agent confirmed."""
        holder_id = (
            int(confirmed_holder) if confirmed_holder and confirmed_holder.isdigit() else None
        )
        try:
            lifecycle.take(ticket, signed_in_user(request), confirmed_holder_id=holder_id)
        except lifecycle.HeldByAnother as held:
            self.message_user(
                request,
                f"#{ticket.pk} is now held by {held.holder}: not taken. Take it again to "
                "confirm taking it from them.",
                messages.WARNING,
            )
            return False
        except lifecycle.IllegalTransition:
            self.message_user(
                request,
                f"#{ticket.pk} is {ticket.get_status_display().lower()}: it cannot be taken.",
                messages.ERROR,
            )
            return False
        return True

    def _takeover_page(
        self,
        request: HttpRequest,
        held: list[Ticket],
        form_action: str,
        hidden: list[tuple[str, str]],
        back: str,
    ) -> TemplateResponse:
        """Ask before taking tickets from the colleagues who hold them; "no" goes to `back`."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Take over from a colleague?",
            "held": held,
            "form_action": form_action,
            "hidden": hidden,
            "back": back,
        }
        return TemplateResponse(request, TAKE_CONFIRM, context)

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
            path(
                "<int:object_id>/presence/",
                wrap(require_POST(self.presence_view)),
                name="tickets_ticket_presence",
            ),
            path(
                "<int:object_id>/macro/",
                wrap(require_GET(self.macro_view)),
                name="tickets_ticket_macro",
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
        agent = signed_in_user(request)
        conversation = list(ticket.messages.select_related("author", "model_version"))
        draft = self._chosen_draft(request, ticket, conversation)
        kept = self._kept_reply(request, ticket)
        macro = self._macro_for(request, request.GET.get("macro", ""))
        stamp = PageStamp.of(ticket).as_initial()
        initial: dict[str, object] = {
            "body": draft.body if draft else "",
            "reason": CorrectionReason.OTHER if draft else CorrectionReason.NO_DRAFT,
            "draft": draft.pk if draft else None,
            **stamp,
        }
        if macro is not None:
            initial.update(body=render(macro.body, Subject(ticket, agent)), macro=macro.pk)
        initial.update({k: v for k, v in kept.items() if k in KEPT_FIELDS})
        refused = [Change(**change) for change in kept.get("changes", [])]
        return {
            "conversation": conversation,
            "events": ticket.events.select_related("actor"),
            "draft": draft,
            "reply_form": AgentReplyForm(initial=initial),
            "macro": macro,
            "macro_choices": self._macro_choices(agent, ticket),
            "refused": refused,
            "refused_ids": {change.message_id for change in refused},
            "stamp": stamp,
            "ticket_actions": [(name, label) for name, (label, _) in TICKET_ACTIONS.items()],
            **self._presence_context(request, ticket),
        }

    def _kept_reply(self, request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
        """What the agent had in the reply box when it was refused (and why), once."""
        kept = request.session.pop(_reply_session_key(ticket.pk), None)
        if isinstance(kept, str):  # a refused form's text alone
            return {"body": kept}
        return kept if isinstance(kept, dict) else {}

    def _keep_reply(
        self, request: HttpRequest, ticket: Ticket, changes: list[Change] | None = None
    ) -> None:
        kept: dict[str, Any] = {name: request.POST.get(name, "") for name in KEPT_FIELDS}
        kept["changes"] = [{"text": c.text, "message_id": c.message_id} for c in changes or []]
        request.session[_reply_session_key(ticket.pk)] = kept

    def _macro_for(self, request: HttpRequest, macro_id: str) -> Macro | None:
        if not macro_id.isdigit():
            return None
        return Macro.objects.usable_by(signed_in_user(request)).filter(pk=macro_id).first()

    def _macro_choices(self, agent: User, ticket: Ticket) -> list[Macro]:
        """The agent's own and the shared macros, those of the ticket's category first."""
        first = Case(When(category=ticket.category, then=Value(0)), default=Value(1))
        return list(
            Macro.objects.usable_by(agent)
            .annotate(fits=first, mine=Case(When(owner=agent, then=Value(0)), default=Value(1)))
            .order_by("fits", "mine", "title")
            .select_related("owner")
        )

    def _presence_context(self, request: HttpRequest, ticket: Ticket) -> dict[str, object]:
        others = presence.beat(ticket.pk, signed_in_user(request))
        return {
            "others_here": others,
            "presence_known": others is not None,
            "heartbeat_s": settings.PRESENCE_HEARTBEAT_S,
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
            self._keep_reply(request, ticket)
            for errors in form.errors.values():
                for error in errors:
                    self.message_user(request, str(error), messages.ERROR)
            return self._back_to(ticket, "#reply")
        try:
            if form.is_note:
                self._add_note(request, ticket, form)
            else:
                self._send_reply(request, ticket, form)
        except lifecycle.StaleView as stale:
            self._keep_reply(request, ticket, stale.changes)
            self.message_user(
                request,
                "Not sent: the ticket changed since you opened it. See what changed, then "
                "send again (your text is kept).",
                messages.WARNING,
            )
            return self._back_to(ticket, "#reply")
        except lifecycle.TicketClosed:
            self._keep_reply(request, ticket)
            self.message_user(
                request, "This ticket is closed: it takes no replies.", messages.ERROR
            )
            return self._back_to(ticket, "#reply")
        return self._back_to(ticket)

    def _send_reply(self, request: HttpRequest, ticket: Ticket, form: AgentReplyForm) -> None:
        agent = signed_in_user(request)
        draft_id = form.cleaned_data["draft"]
        drafts = ticket.messages.filter(role=Role.ASSISTANT)
        draft = drafts.filter(pk=draft_id).first() if draft_id else None
        reason = form.cleaned_data["reason"] if draft else CorrectionReason.NO_DRAFT
        with transaction.atomic():  # a macro's use counts only with the reply it made
            reply = lifecycle.agent_reply(
                ticket,
                agent,
                form.cleaned_data["body"],
                draft=draft,
                reason=reason,
                seen=PageStamp.from_form(form.cleaned_data),
            )
            if form.cleaned_data["macro"]:
                record_use(form.cleaned_data["macro"], reply, agent)
        self.message_user(request, "Reply sent: the user sees it in their chat.", messages.SUCCESS)

    def _add_note(self, request: HttpRequest, ticket: Ticket, form: AgentReplyForm) -> None:
        lifecycle.add_note(
            ticket,
            signed_in_user(request),
            form.cleaned_data["body"],
            seen=PageStamp.from_form(form.cleaned_data),
        )
        self.message_user(
            request,
            "Internal note added: agents and managers see it, the user never does.",
            messages.SUCCESS,
        )

    def act_view(self, request: HttpRequest, object_id: int, name: str) -> HttpResponse:
        if name not in TICKET_ACTIONS:
            raise Http404(f"No ticket action {name!r}")
        ticket = self._editable_ticket(request, object_id)
        if name != "take":
            self._apply(request, [ticket], name)
            return self._back_to(ticket)
        holder = ticket.assigned_to
        confirmed = request.POST.get("holder")
        if holder is not None and holder.pk != request.user.pk and confirmed is None:
            hidden = [("holder", str(holder.pk))]
            back = reverse("admin:tickets_ticket_change", args=[ticket.pk])
            return self._takeover_page(request, [ticket], request.path, hidden, back)
        if self._take(request, ticket, confirmed):
            done = f"taken over from {holder.get_username()}" if holder and confirmed else "taken"
            self.message_user(request, f"Ticket {done}.", messages.SUCCESS)
        return self._back_to(ticket)

    def presence_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The open page's heartbeat: who else has the ticket open, and whether it changed
        since the page was loaded (so the agent knows before they send)."""
        ticket = self._editable_ticket(request, object_id)
        if not getattr(request, "htmx", False):
            return self._back_to(ticket)
        form = AgentReplyForm(request.POST)
        form.is_valid()  # only the stamp's fields are read; the body may well be empty
        stamp = PageStamp.from_form(form.cleaned_data)
        changed = changes_since(ticket, stamp, signed_in_user(request)) if stamp else []
        context = {
            "original": ticket,
            "changed": changed,
            "stamp": stamp.as_initial() if stamp else {},
            **self._presence_context(request, ticket),
        }
        return TemplateResponse(request, f"{WORKSPACE}#presence", context)

    def macro_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """A macro rendered for this ticket into the reply box (an htmx swap); without
        JavaScript the ticket page itself prefills it."""
        ticket = self._editable_ticket(request, object_id)
        macro_id = request.GET.get("macro", "")
        if not getattr(request, "htmx", False):
            url = reverse("admin:tickets_ticket_change", args=[ticket.pk])
            return HttpResponseRedirect(f"{url}?macro={macro_id}#reply")
        macro = self._macro_for(request, macro_id)
        if macro is None:
            raise Http404("No such macro for you")
        body = render(macro.body, Subject(ticket, signed_in_user(request)))
        form = AgentReplyForm(initial={"body": body, "macro": macro.pk})
        context = {"original": ticket, "reply_form": form, "macro": macro}
        return TemplateResponse(request, f"{WORKSPACE}#reply_body", context)

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

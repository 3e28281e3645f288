"""Who resolved a ticket: the assistant alone, or people. The one rule the dashboard, the
satisfaction figures and the service levels share."""

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

from .models import Message, Role, Ticket, TicketEvent

# Any sign of a person's work: escalated, assigned, an agent's reply or action. Internal notes
# are not replies (their role is not AGENT), but an agent who wrote one was already assigned.
BY_PEOPLE = (
    Q(escalated_at__isnull=False)
    | Q(assigned_to__isnull=False)
    | Q(agent_replied=True)
    | Q(someone_else_acted=True)
)


def with_resolver(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """`tickets` annotated with `resolved_by_ai`: no person worked on the ticket.

    Also annotates the evidence it reads (`agent_replied`, `someone_else_acted`), which
    `BY_PEOPLE` filters on. It says who did the work, not whether the ticket is resolved:
    combine it with a status filter.
    """
    ticket = OuterRef("pk")
    events = TicketEvent.objects.filter(ticket=ticket)
    evidence = tickets.annotate(
        agent_replied=Exists(Message.objects.filter(ticket=ticket, role=Role.AGENT)),
        # An agent resolving or closing from the admin is a person's work even without a reply.
        someone_else_acted=Exists(
            events.filter(actor__isnull=False).exclude(actor=OuterRef("requester"))
        ),
    )
    return evidence.annotate(
        resolved_by_ai=ExpressionWrapper(~BY_PEOPLE, output_field=BooleanField())
    )

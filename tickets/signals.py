"""Signals the helpdesk sends, so the training side can listen without tickets importing it."""

from django.dispatch import Signal

# Sent after an agent's reply is saved, inside its transaction.
# kwargs: ticket, message (the agent's Message), draft (the assistant Message the agent
# started from, or None), reason (a training.CorrectionReason value or "").
agent_replied = Signal()

# Sent after the requester rates a message. kwargs: message, user, helpful.
message_rated = Signal()

# Sent when a ticket an agent held goes to another agent (a takeover or a reassignment),
# inside the transaction. kwargs: ticket (assigned to the new holder), previous (the agent
# who held it), actor (who moved it, or None).
ticket_changed_hands = Signal()

# Sent when a ticket becomes resolved (by an agent or by the requester), inside the
# transaction. kwargs: ticket.
ticket_resolved = Signal()

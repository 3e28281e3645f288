from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        # The helpdesk announces replies and ratings; it never imports the training side.
        from tickets.signals import agent_replied, message_rated, ticket_resolved

        from .feedback.cases import on_ticket_resolved
        from .feedback.corrections import on_agent_replied, on_message_rated

        agent_replied.connect(on_agent_replied, dispatch_uid="training.record_correction")
        message_rated.connect(on_message_rated, dispatch_uid="training.mark_thumbs_down")
        ticket_resolved.connect(on_ticket_resolved, dispatch_uid="training.solved_cases")
        # Promotions and exports enter the security trail from their own rows.
        from . import audit

        audit.connect()

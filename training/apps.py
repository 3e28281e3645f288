from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        # The helpdesk announces replies and ratings; it never imports the training side.
        from tickets.signals import agent_replied, message_rated

        from .feedback.corrections import on_agent_replied, on_message_rated

        agent_replied.connect(on_agent_replied, dispatch_uid="training.record_correction")
        message_rated.connect(on_message_rated, dispatch_uid="training.mark_thumbs_down")
        _schedule_retraining()


def _schedule_retraining() -> None:
    """Add the retraining beat entry only when enabled: off by default."""
    from django.conf import settings

    from .releases.retrain import beat_entry, schedule_enabled

    if schedule_enabled():
        schedule = getattr(settings, "CELERY_BEAT_SCHEDULE", {})
        schedule.setdefault("retrain-from-corrections", beat_entry())
        settings.CELERY_BEAT_SCHEDULE = schedule

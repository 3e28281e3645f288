from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # The triggers: receivers of the helpdesk's signals and audit rows.
        from . import receivers  # noqa: F401

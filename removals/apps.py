from django.apps import AppConfig


class RemovalsConfig(AppConfig):
    name = "removals"
    verbose_name = "Removal requests"

    def ready(self):
        from notices.handlers import register_answer_handler, register_overdue_handler

        from . import services

        register_overdue_handler("removal", services.notice_overdue)
        register_answer_handler("removal", services.notice_answered)

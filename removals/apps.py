from django.apps import AppConfig


class RemovalsConfig(AppConfig):
    name = "removals"
    verbose_name = "Removal requests"

    def ready(self):
        from notices.handlers import (
            register_answer_handler,
            register_overdue_handler,
            register_staff_access,
        )

        from . import services

        register_overdue_handler("removal", services.notice_overdue)
        register_answer_handler("removal", services.notice_answered)
        # The guild's staff are the letters' contact: replies reach them, they record them.
        register_staff_access(
            "removal",
            services.staff_may_act_on_notice,
            topics=services.staff_notice_topics,  # the engine's lists, in SQL
            is_party=services.is_party_to_notice,  # nobody answers for their own request
        )
        # Evidence files are files they store: they count in their storage allowance.
        from works.services import register_storage_counter

        from .evidence import storage_used

        register_storage_counter(storage_used)
        # The works list's bulk action "Add to a removal request".
        from works.extensions import register_bulk_action

        from .works_bulk import REMOVAL_BULK

        register_bulk_action(REMOVAL_BULK)

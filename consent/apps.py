from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent, credit and the ledger"

    def ready(self):
        # The works list filters by AI choice and the catalogue export carries each work's
        # effective AI choices: ``works`` cannot import ``consent``, so it is told here.
        from works.extensions import (
            register_bulk_action,
            register_export_columns,
            register_list_filter,
        )

        from .catalogue import AI_CHOICE_BULK, AI_CHOICE_COLUMNS, AI_CHOICE_FILTER

        register_list_filter(AI_CHOICE_FILTER)
        register_export_columns(AI_CHOICE_COLUMNS)
        register_bulk_action(AI_CHOICE_BULK)  # the works list's "Set an AI choice"

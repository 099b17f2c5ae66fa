from django.apps import AppConfig


class WorksRegistryConfig(AppConfig):
    name = "works_registry"
    verbose_name = "Works registry"

    def ready(self):
        # The change feed hears of every change to what the registry answers, in the
        # transaction that makes it, through the hooks of the apps below (changes.py).
        from accounts.services import register_account_listener
        from consent.ledger import register_append_listener
        from works.listeners import register_listener

        from . import changes
        from .sites_services import register_status_listener

        register_listener(changes.on_works_changed)
        register_append_listener(changes.on_ledger_append)
        register_account_listener(changes.on_account_changed)
        register_status_listener(changes.on_site_status)

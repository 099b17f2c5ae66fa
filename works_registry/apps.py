from django.apps import AppConfig


class WorksRegistryConfig(AppConfig):
    name = "works_registry"
    verbose_name = "Works registry"

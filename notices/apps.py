from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = "Notices and the AI-developer registry"

    def ready(self):
        from . import checks  # noqa: F401 - registers the checks

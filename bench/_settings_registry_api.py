"""Settings for the registry API benchmark only (``bench/registry_api.py``): the project's
settings, with a URLconf that adds a trivial JSON view and the bare identifier-query view
(``bench/_urls_registry_api.py``). The project's settings know nothing of this."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench._urls_registry_api"

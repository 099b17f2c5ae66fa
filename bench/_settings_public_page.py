"""Settings for the public-page benchmark only: the project's settings, with a URLconf that adds
one trivial page (``bench/_urls_trivial.py``). The project's settings know nothing of this."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench._urls_trivial"

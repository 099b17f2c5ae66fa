"""Views of the works app, one module per area: the catalogue (``catalogue``), imports
(``imports``), exports (``exports``) and conflicts (``conflicts``)."""

from .catalogue import *  # noqa: F403 - the URLconf names catalogue views as ``views.<name>``

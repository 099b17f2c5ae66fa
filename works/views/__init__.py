"""Views of the works app, one module per area: the catalogue (``catalogue``), imports
(``imports``), exports (``exports``) and conflicts (``conflicts``)."""

from .bulk import work_bulk  # noqa: F401
from .catalogue import *  # noqa: F403 - the URLconf names catalogue views as ``views.<name>``

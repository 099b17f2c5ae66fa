"""Print the pinned requirements from pyproject.toml, one per line: the runtime ones, plus the
named extras (``python scripts/requirements.py test``). The Makefile installs them with pip —
the project itself runs from its folder and is never installed as a package."""

import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
lines = list(project["dependencies"])
for extra in sys.argv[1:]:
    lines += project["optional-dependencies"][extra]
print("\n".join(lines))

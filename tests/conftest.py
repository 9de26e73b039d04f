"""Fast unit tests of the repository's own Python outside the extension (no Docker).

The hub's add-on package lives in services/hub (it is copied into the hub image), so put
that folder on sys.path here.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "services" / "hub"))

"""Named points of a load where a test can kill it, to prove a kill anywhere is safe.

`PATHWAY_KILL_AT=upserting` (or `upserting:activity.csv`, for one file) makes the loading
process send itself SIGKILL when it reaches that point: no cleanup, no exit handlers, exactly
what `kill -9` does, at a known step rather than after a guessed delay. Unset, it costs one
environment lookup per point.

The points, in order: reading (the file staged), validating (rules checked), upserting (rows
written, not committed), committed (the file's transaction committed, the journey not yet
rebuilt), rebuilding (the journey rebuilt, not committed).
"""

from __future__ import annotations

import os
import signal

POINTS = ("reading", "validating", "upserting", "committed", "rebuilding")


def reached(point: str, file_name: str | None = None) -> None:
    wanted = os.environ.get("PATHWAY_KILL_AT")
    if wanted and wanted in (point, f"{point}:{file_name}"):
        os.kill(os.getpid(), signal.SIGKILL)

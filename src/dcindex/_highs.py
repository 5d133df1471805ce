"""A silent HiGHS instance (highspy), shared by every optimisation in dcindex.

HiGHS prints a copyright banner to the C-level stdout when the first instance of a process is created; no
option prevents it, so that one construction runs with file descriptor 1 on /dev/null. Every instance has
``output_flag`` off and a fixed ``random_seed`` (reproducible solves).
"""
from __future__ import annotations

import os
import sys

_BANNER_SILENCED = False


def new_highs():
    import highspy

    global _BANNER_SILENCED
    if _BANNER_SILENCED:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)
        _BANNER_SILENCED = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    return h

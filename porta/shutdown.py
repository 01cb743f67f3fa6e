"""Whether this server is shutting down, one flag shared by the gunicorn arbiter and its workers.

On SIGTERM the arbiter (``porta serve``) raises the flag; from then on every worker's
``/health/ready`` answers 503, so a load balancer stops sending traffic while the server still
serves for the grace period. The flag is one byte of anonymous shared memory, mapped when this
module is first imported: ``porta serve`` imports it before gunicorn forks its workers, so they all
share the arbiter's page. (A server started otherwise simply never raises it.)
"""

from __future__ import annotations

import mmap

_flag = mmap.mmap(-1, 1)  # anonymous and MAP_SHARED: forked children see the parent's writes


def draining() -> bool:
    return _flag[0] == 1


def start_draining() -> None:
    _flag[0] = 1

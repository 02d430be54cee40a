"""Lambda SnapStart: what must not outlive a snapshot.

With SnapStart, Lambda runs a function's init once, snapshots the container's memory, and starts
new containers from that snapshot. Whatever init opened (a database socket, AWS credentials, a
client holding them) would then be shared by every container restored from it. The layer opens
nothing at import; each module that caches such a thing on first use registers here how to forget
it, and the runtime calls that before the snapshot and after every restore.

The hooks come from snapshot_restore_py, which Lambda's Python runtime provides (3.12 on); where it
is absent (locally), nothing is registered, and nothing needs to be.
"""

from __future__ import annotations

from collections.abc import Callable

Forget = Callable[[], object]


def forget_on_snapshot(forget: Forget) -> Forget:
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return forget
    register_before_snapshot(forget)
    register_after_restore(forget)
    return forget

"""SQL of the demo's bookkeeping: sandboxes, the story's locks and the reset log (the story itself
is a pack of packs/, written by queries/seed.py).

The API functions' login sees only its own sandbox's row of demo_sandboxes (row-level security on the
transaction's squelch.sandbox) and may add to the reset log, not read it; what spans every sandbox goes
through functions of migration 0009 that run as the schema's owner."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from psycopg.rows import class_row, scalar_row

from squelch.db import Connection

# Resets and deletes take their sandbox's story lock exclusively, before anything else; every other
# write holds it shared, so it starts after a running reset or delete has committed (and sees the
# new story, or no sandbox) instead of writing into the one being deleted. Sandboxes have locks of
# their own: their resets never wait for each other.
LOCK_STORY_FOR_RESET = "SELECT pg_advisory_xact_lock(hashtext('squelch.story'), hashtext(%(sandbox)s))"
LOCK_STORY_FOR_WRITE = "SELECT pg_advisory_xact_lock_shared(hashtext('squelch.story'), hashtext(%(sandbox)s))"
# Creating a sandbox counts them first: creations take turns. The lock order is a sandbox's story
# lock, then this one; whoever holds this one only ever tries other story locks (never waits for
# them), so no two transactions can wait for each other.
LOCK_SANDBOX_CREATION = "SELECT pg_advisory_xact_lock(hashtext('squelch.sandboxes'), 0)"

ENTER = "SELECT set_config('squelch.sandbox', %(sandbox)s, true), set_config('squelch.demo_anchor', %(anchor)s, true)"

SANDBOX_EXISTS = "SELECT EXISTS (SELECT 1 FROM demo_sandboxes WHERE name = %(name)s)"
COUNT_SANDBOXES = "SELECT demo_sandbox_count()"
OWNERSHIP = "SELECT owner FROM demo_sandboxes WHERE name = %(name)s"
SANDBOX_KEY = "SELECT sandbox_key FROM demo_sandboxes WHERE name = %(name)s"

# A presenter's reset is activity; the daily refresh's is not, or idle sandboxes would never expire.
# The first presenter to reset a sandbox without an owner becomes its owner (owner NULL: the default
# sandbox, the refresh). private: true keeps its key or gives it one (key), false drops it, NULL leaves it.
RECORD_RESET = """
INSERT INTO demo_sandboxes (name, checkpoint, anchor_date, owner, sandbox_key, story, csm_name, account_name)
VALUES (%(name)s, %(checkpoint)s, %(anchor)s, %(owner)s, CASE WHEN %(private)s THEN %(key)s END, %(story)s,
        %(csm_name)s, %(account_name)s)
ON CONFLICT (name) DO UPDATE
SET checkpoint = excluded.checkpoint, anchor_date = excluded.anchor_date, story = excluded.story,
    csm_name = excluded.csm_name, account_name = excluded.account_name,
    last_activity_at = CASE WHEN %(activity)s THEN now() ELSE demo_sandboxes.last_activity_at END,
    owner = coalesce(demo_sandboxes.owner, excluded.owner),
    sandbox_key = CASE %(private)s::boolean
        WHEN true THEN coalesce(demo_sandboxes.sandbox_key, %(key)s)
        WHEN false THEN NULL
        ELSE demo_sandboxes.sandbox_key END
RETURNING owner, sandbox_key
"""

# Stale: seeded around another day than the refresh's, before it or ahead of it (a rehearsal's pinned D).
STALE_SANDBOXES = "SELECT demo_stale_sandboxes(%(anchor)s)"

# Read under the sandbox's reset lock: a presenter may have reset it, or been at work in it, since
# the list of stale sandboxes was taken.
REFRESH_STATE = """
SELECT checkpoint, story, csm_name, account_name,
       anchor_date <> %(anchor)s AS stale, last_activity_at > now() - %(quiet)s AS busy,
       abs(anchor_date - %(anchor)s::date) AS days_off
FROM demo_sandboxes WHERE name = %(name)s
"""

TOUCH = "UPDATE demo_sandboxes SET last_activity_at = now() WHERE name = %(name)s"

# The default sandbox is what clients without the header see: never removed for being idle. The function
# tries the idle sandboxes' story locks and keeps those in use (migration 0009).
DELETE_IDLE = "SELECT demo_remove_idle_sandboxes(%(ttl_days)s)"

DELETE_SANDBOX = "DELETE FROM demo_sandboxes WHERE name = %(name)s RETURNING name"

# The default first, then the most recently active (the function's order).
LIST_SANDBOXES = """
SELECT name, checkpoint, anchor_date, created_at, last_activity_at, owner, sandbox_key, story
FROM demo_sandbox_directory()
"""

CUSTOMER_EXISTS = (
    "SELECT 1 FROM demo_customers WHERE customer_id = %(customer_id)s AND sandbox = current_setting('squelch.sandbox')"
)

# The log is append-only for the API's login, which may not read it, so not RETURNING either (it needs
# SELECT): the line's number is the value its insert took from the log's sequence, in this session.
LOG_RESET = """
INSERT INTO demo_reset_log (requested_by, anchor_date, duration_ms, source_ip, sandbox, checkpoint, source)
VALUES (%(requested_by)s, %(anchor_date)s, %(duration_ms)s, %(source_ip)s, %(sandbox)s, %(checkpoint)s, %(source)s)
"""
LOGGED_RESET_ID = "SELECT currval(pg_get_serial_sequence('demo_reset_log', 'reset_id'))"


@dataclass(frozen=True)
class RefreshState:
    checkpoint: str
    story: str  # the pack it holds
    csm_name: str | None  # the presenter's names, None for the pack's own
    account_name: str | None
    stale: bool  # seeded around another day than the refresh's
    busy: bool  # reset or written to within the quiet period
    days_off: int  # days between the day it was seeded around and the refresh's


@dataclass(frozen=True)
class Sandbox:
    name: str
    checkpoint: str
    anchor_date: date
    created_at: datetime
    last_activity_at: datetime
    owner: str | None  # None: the default sandbox, or one made before owners were recorded
    sandbox_key: str | None  # None: public
    story: str


@dataclass(frozen=True)
class Ownership:
    owner: str | None


@dataclass(frozen=True)
class Recorded:
    """A sandbox as a reset left it: its owner and, when private, its key."""

    owner: str | None
    sandbox_key: str | None


def enter(conn: Connection, sandbox: str, anchor: date) -> None:
    """Name the sandbox and the demo day D to the transaction (the seed's demo_day() reads D)."""
    conn.execute(ENTER, {"sandbox": sandbox, "anchor": anchor.isoformat()})


def lock_story_for_reset(conn: Connection, sandbox: str) -> None:
    conn.execute(LOCK_STORY_FOR_RESET, {"sandbox": sandbox})


def lock_story_for_write(conn: Connection, sandbox: str) -> None:
    conn.execute(LOCK_STORY_FOR_WRITE, {"sandbox": sandbox})


def lock_sandbox_creation(conn: Connection) -> None:
    conn.execute(LOCK_SANDBOX_CREATION)


def sandbox_exists(conn: Connection, name: str) -> bool:
    return bool(conn.cursor(row_factory=scalar_row).execute(SANDBOX_EXISTS, {"name": name}).fetchone())


def count_sandboxes(conn: Connection) -> int:
    return int(conn.cursor(row_factory=scalar_row).execute(COUNT_SANDBOXES).fetchone() or 0)


def record_reset(
    conn: Connection,
    name: str,
    checkpoint: str,
    anchor: date,
    *,
    activity: bool = True,
    owner: str | None = None,
    private: bool | None = None,
    key: str | None = None,
    story: str,
    csm_name: str | None = None,
    account_name: str | None = None,
) -> Recorded:
    """Create the sandbox (owned by owner), or note the checkpoint and demo day it was reset to (and,
    for a presenter's reset, that the sandbox is in use; an owner-less one becomes owner's). private
    True makes it private with key unless it has a key already, False public, None leaves it. story: the pack it
    now holds; csm_name and account_name the presenter's display names (None: the pack's own)."""
    params = {
        "name": name,
        "checkpoint": checkpoint,
        "anchor": anchor,
        "activity": activity,
        "owner": owner,
        "private": private,
        "key": key,
        "story": story,
        "csm_name": csm_name,
        "account_name": account_name,
    }
    recorded = conn.cursor(row_factory=class_row(Recorded)).execute(RECORD_RESET, params).fetchone()
    if recorded is None:
        raise RuntimeError("INSERT ... ON CONFLICT DO UPDATE ... RETURNING returned no row")
    return recorded


def ownership(conn: Connection, name: str) -> Ownership | None:
    """Who owns the sandbox; None when there is no such sandbox."""
    return conn.cursor(row_factory=class_row(Ownership)).execute(OWNERSHIP, {"name": name}).fetchone()


def sandbox_key(conn: Connection, name: str) -> str | None:
    """The sandbox's key when it is private; None when it is public (or gone)."""
    row = conn.cursor(row_factory=scalar_row).execute(SANDBOX_KEY, {"name": name}).fetchone()
    return str(row) if row is not None else None


def stale_sandboxes(conn: Connection, anchor: date) -> list[str]:
    """The sandboxes whose story was seeded around another day than anchor, before or after it."""
    return conn.cursor(row_factory=scalar_row).execute(STALE_SANDBOXES, {"anchor": anchor}).fetchall()


def refresh_state(conn: Connection, name: str, anchor: date, quiet: timedelta) -> RefreshState | None:
    params = {"name": name, "anchor": anchor, "quiet": quiet}
    return conn.cursor(row_factory=class_row(RefreshState)).execute(REFRESH_STATE, params).fetchone()


def touch(conn: Connection, name: str) -> None:
    """Note activity in the sandbox (a workflow write): idle sandboxes are removed, busy ones are not."""
    conn.execute(TOUCH, {"name": name})


def delete_idle(conn: Connection, ttl_days: int) -> list[str]:
    """Remove the sandboxes idle for ttl_days, each under its story lock as any delete; one whose lock
    another transaction holds is in use right now (a write or a reset), so it stays. Call it holding
    the creation lock: it only tries the story locks, and never waits for one."""
    return conn.cursor(row_factory=scalar_row).execute(DELETE_IDLE, {"ttl_days": ttl_days}).fetchall()


def delete_sandbox(conn: Connection, name: str) -> bool:
    """Remove the sandbox with everything in it. Call it holding its story lock (lock_story_for_reset,
    taken first, as a reset takes it): its writers and resets finish before, or start after and find no
    sandbox."""
    return conn.cursor(row_factory=scalar_row).execute(DELETE_SANDBOX, {"name": name}).fetchone() is not None


def list_sandboxes(conn: Connection) -> list[Sandbox]:
    return conn.cursor(row_factory=class_row(Sandbox)).execute(LIST_SANDBOXES).fetchall()


def customer_exists(conn: Connection, customer_id: str) -> bool:
    cursor = conn.cursor(row_factory=scalar_row)
    return cursor.execute(CUSTOMER_EXISTS, {"customer_id": customer_id}).fetchone() is not None


@dataclass(frozen=True)
class ResetRecord:
    """One line of the reset log: who asked (a presenter, or the daily refresh), for which sandbox."""

    requested_by: str
    anchor_date: date
    duration_ms: float
    source_ip: str | None
    sandbox: str
    checkpoint: str
    source: str = "presenter"


def log_reset(conn: Connection, record: ResetRecord) -> int:
    """Add the line to the reset log; its number."""
    cursor = conn.cursor(row_factory=scalar_row)
    cursor.execute(LOG_RESET, asdict(record))
    reset_id = cursor.execute(LOGGED_RESET_ID).fetchone()
    if reset_id is None:
        raise RuntimeError("currval returned no row")
    return int(reset_id)

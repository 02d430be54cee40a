"""The demo story: seeding Obsidian Black around the demo day D, and the presenters' reset."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import date

from aws_lambda_powertools.metrics import MetricUnit

from squelch import clock, db
from squelch.db import Connection, credentials, migrations, roles, sandbox
from squelch.db.connection import sandbox_not_found
from squelch.domain import packs
from squelch.domain.customers import story_holds
from squelch.errors import BadRequest, Conflict, DomainError, Forbidden, Invalid, Unavailable
from squelch.models.common import from_row
from squelch.models.demo import (
    ResetResponse,
    SandboxInfo,
    SandboxList,
    StoryAccount,
    StoryCheckpoint,
    StoryInfo,
    StoryList,
    StoryState,
)
from squelch.observability import logger, metrics
from squelch.queries import demo as queries
from squelch.queries import seed
from squelch.settings import get_settings

# The default story: the pack the default sandbox and a reset without a story tell.
ACT1 = packs.load(packs.DEFAULT_PACK)
START = ACT1.start
# The points of the story a sandbox can start from: the story alone, or the story with the
# presenter's work up to a point of the demo (the pack's checkpoints.json).
CHECKPOINTS = ACT1.checkpoint_names


@dataclass(frozen=True)
class ResetResult:
    customer_id: str
    sandbox: str
    checkpoint: str
    anchor_date: date
    duration_ms: float
    created: bool
    owner: str | None = None
    sandbox_key: str | None = None


@dataclass(frozen=True)
class Presenter:
    """A signed-in presenter: their name (the token's username) and whether they are in the admin group."""

    name: str
    admin: bool = False


def may_manage(name: str, owner: str | None, presenter: Presenter) -> bool:
    """Whether the presenter may reset the sandbox (and, but for the default one, delete it): its owner or
    an admin; anyone for the default sandbox, which is everyone's, and for one made before owners were
    recorded (whose next reset makes its presenter the owner)."""
    return presenter.admin or name == sandbox.DEFAULT or owner is None or owner == presenter.name


def owned_by_another(name: str, owner: str | None) -> Forbidden:
    admins = get_settings().demo_admin_group
    return Forbidden(
        "sandbox_owned_by_another",
        f"Sandbox {name!r} belongs to {owner}: only they, or a member of the {admins!r} group, may reset or "
        "delete it. Create a sandbox of your own.",
    )


@dataclass(frozen=True)
class Display:
    """The names a presenter shows in their sandbox instead of the pack's own; None keeps the pack's."""

    csm_name: str | None = None
    account_name: str | None = None


def pack_named(story: str | None) -> packs.Pack:
    """The shipped pack of that name (Act 1 when None); 422 unknown_story naming the others."""
    if story is None:
        return ACT1
    try:
        return packs.load(story)
    except KeyError:
        known = ", ".join(packs.names())
        raise Invalid(
            "unknown_story",
            f"Unknown story {story!r}; known stories: {known} (GET /api/demo/stories lists them).",
            [{"loc": ["story"], "msg": f"must be one of: {known}", "type": "enum"}],
        ) from None


def new_sandbox_key() -> str:
    return secrets.token_urlsafe(24)  # 32 URL-safe characters, 192 random bits


def seed_story(
    conn: Connection, anchor: date, checkpoint: str = START, pack: packs.Pack = ACT1, display: Display = Display()
) -> None:
    """Write the pack's story around D into the transaction's sandbox, then what the checkpoint adds. The
    presenter's names replace the pack's in the rows, so every route and every text reads them alike."""
    point = pack.checkpoint(checkpoint)
    if point is None:
        raise unknown_checkpoint(checkpoint, pack)
    placed = packs.place(pack, anchor)
    customer = dict(placed.customer)
    if display.csm_name is not None:
        customer["csm_name"] = display.csm_name
    if display.account_name is not None:
        customer["name"] = display.account_name
    seed.insert_story(
        conn,
        customer,
        placed.contacts,
        placed.operations,
        placed.tickets,
        placed.contracts,
        placed.plan,
        placed.opportunities,
        placed.health,
    )
    sessions = packs.checkpoint_sessions(point, placed, anchor)
    seed.insert_checkpoint(conn, pack.customer_id, sessions, bool(point.get("complete_plan")))


def unknown_checkpoint(checkpoint: str, pack: packs.Pack = ACT1) -> Invalid:
    known = ", ".join(pack.checkpoint_names)
    return Invalid(
        "unknown_checkpoint",
        f"Unknown checkpoint {checkpoint!r}; known checkpoints: {known}.",
        [{"loc": ["checkpoint"], "msg": f"must be one of: {known}", "type": "enum"}],
    )


def seed_if_absent(conn: Connection, anchor: date) -> bool:
    """Seed the default sandbox's story unless its demo customer exists; never overwrites data.
    True when seeded."""
    with conn.transaction():
        queries.enter(conn, sandbox.DEFAULT, anchor)
        queries.lock_story_for_reset(conn, sandbox.DEFAULT)
        if queries.customer_exists(conn, ACT1.customer_id):
            return False
        queries.record_reset(conn, sandbox.DEFAULT, START, anchor, story=ACT1.name)
        seed_story(conn, anchor)
        return True


def reset(
    conn: Connection,
    anchor: date,
    checkpoint: str | None = None,
    name: str = sandbox.DEFAULT,
    *,
    activity: bool = True,
    owner: str | None = None,
    private: bool | None = None,
    pack: packs.Pack = ACT1,
    display: Display = Display(),
) -> ResetResult:
    """Delete the sandbox's demo data and seed the story again from the checkpoint, in one
    transaction: all of it or none of it. Creates the sandbox when it does not exist, owned by owner
    (the default sandbox is no one's). A reset is a presenter's activity in the sandbox unless
    activity=False (the daily refresh). private: see queries.record_reset. The story is the pack's (Act 1
    unless another is named; its first checkpoint unless one is), with the presenter's display names if any."""
    started = time.perf_counter()
    checkpoint = checkpoint or pack.start
    if pack.checkpoint(checkpoint) is None:
        raise unknown_checkpoint(checkpoint, pack)
    if name == sandbox.DEFAULT:
        owner, private = None, None
    with conn.transaction():
        queries.enter(conn, name, anchor)
        queries.lock_story_for_reset(conn, name)
        created = not queries.sandbox_exists(conn, name)
        recorded = queries.record_reset(
            conn,
            name,
            checkpoint,
            anchor,
            activity=activity,
            owner=owner,
            private=private,
            key=new_sandbox_key() if private else None,
            story=pack.name,
            csm_name=display.csm_name,
            account_name=display.account_name,
        )
        seed.delete_demo_data(conn)
        seed_story(conn, anchor, checkpoint, pack, display)
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    return ResetResult(
        pack.customer_id, name, checkpoint, anchor, elapsed, created, recorded.owner, recorded.sandbox_key
    )


def reset_demo(
    confirm: object,
    checkpoint: str | None,
    requested_by: str,
    source_ip: str | None,
    *,
    admin: bool = False,
    private: bool | None = None,
    story: str | None = None,
    display: Display = Display(),
) -> ResetResponse:
    """The presenters' reset of the request's sandbox (created when new, within the limit, after
    removing idle ones, owned by requested_by): refused unless confirm is true, and unless the
    presenter may manage the sandbox (may_manage); recorded with who asked and how long it took."""
    if confirm is not True:
        raise BadRequest("confirmation_required", 'Send {"confirm": true} to reset the demo; nothing was deleted.')
    pack = pack_named(story)
    checkpoint = checkpoint or pack.start
    if pack.checkpoint(checkpoint) is None:
        raise unknown_checkpoint(checkpoint, pack)
    anchor, name, settings = clock.demo_anchor(), sandbox.current(), get_settings()
    if name == sandbox.DEFAULT and (pack is not ACT1 or display != Display()):
        field = "story" if pack is not ACT1 else "csm_name" if display.csm_name is not None else "account_name"
        raise Invalid(
            "default_sandbox_tells_act1",
            "The default sandbox tells Act 1 as written: it is what front ends without the X-Demo-Sandbox header "
            "show. Choose another story or your own names in a sandbox of your own.",
            [{"loc": [field], "msg": "must be absent for the default sandbox", "type": "default_sandbox"}],
        )
    if private and name == sandbox.DEFAULT:
        raise Invalid(
            "default_sandbox_is_public",
            "The default sandbox cannot be private: it is what front ends without the X-Demo-Sandbox header show.",
            [{"loc": ["private"], "msg": "must not be true for the default sandbox", "type": "default_sandbox"}],
        )
    presenter = Presenter(requested_by, admin)

    def unit(conn: Connection) -> tuple[ResetResult, int, list[str]]:
        # The story lock first: a reset or delete of this sandbox under way finishes before this one
        # asks whether the sandbox exists, so a sandbox this reset creates is always counted.
        queries.lock_story_for_reset(conn, name)
        removed: list[str] = []
        held = queries.ownership(conn, name)
        if held is None:
            queries.lock_sandbox_creation(conn)
            removed = queries.delete_idle(conn, settings.demo_sandbox_ttl_days)
            if queries.count_sandboxes(conn) >= settings.demo_max_sandboxes:
                raise Conflict(
                    "sandbox_limit_reached",
                    f"There are already {settings.demo_max_sandboxes} sandboxes, the most this deployment "
                    "keeps; delete one (DELETE /api/demo/sandboxes/{name}) or reset an existing one.",
                )
        elif not may_manage(name, held.owner, presenter):
            raise owned_by_another(name, held.owner)
        result = reset(conn, anchor, checkpoint, name, owner=requested_by, private=private, pack=pack, display=display)
        record = queries.ResetRecord(requested_by, anchor, result.duration_ms, source_ip, name, checkpoint)
        reset_id = queries.log_reset(conn, record)
        return result, reset_id, removed

    try:
        result, reset_id, removed = db.run(unit, creates_sandbox=True)
    except Exception as error:
        # A reset the presenter could not have avoided (the database unreachable, a bug); a refusal
        # such as the sandbox limit is their answer, not a failure. Alarmed on (ResetFailuresAlarm).
        if isinstance(error, Unavailable) or not isinstance(error, DomainError):
            metrics.add_metric(name="DemoResetFailures", unit=MetricUnit.Count, value=1)
        raise
    logger.info(
        "demo reset",
        extra={
            "reset_id": reset_id,
            "requested_by": requested_by,
            "sandbox": name,
            "checkpoint": checkpoint,
            "story": pack.name,
            "personalised": display != Display(),
            "sandbox_created": result.created,
            "sandbox_owner": result.owner,
            "as_admin": admin,
            "anchor_date": anchor.isoformat(),
            "duration_ms": result.duration_ms,
            "idle_sandboxes_removed": removed,
        },
    )
    metrics.add_dimension(name="Checkpoint", value=checkpoint)
    metrics.add_metadata(key="sandbox", value=name)
    metrics.add_metric(name="DemoResets", unit=MetricUnit.Count, value=1)
    return ResetResponse(
        success=True,
        message="Demo data reset successfully",
        customer_id=result.customer_id,
        sandbox=name,
        story=pack.name,
        csm_name=display.csm_name or pack.account["csm_name"],
        account_name=display.account_name or pack.account["name"],
        checkpoint=checkpoint,
        created=result.created,
        anchor_date=anchor,
        duration_ms=result.duration_ms,
        reset_id=reset_id,
        requested_by=requested_by,
        owner=result.owner,
        private=result.sandbox_key is not None,
        sandbox_key=result.sandbox_key,
    )


def sandboxes(presenter: Presenter) -> SandboxList:
    """Every sandbox, the default first, then the most recently active, whichever sandbox the
    request names (a front end whose own sandbox was deleted can still list the others); a private
    one's key only for those who may manage it."""
    with sandbox.using(sandbox.DEFAULT):  # the directory of sandboxes is not inside one
        rows = db.run(queries.list_sandboxes, read_only=True)
    today = clock.today()
    listed = []
    for row in rows:
        manage = may_manage(row.name, row.owner, presenter)
        info = from_row(
            SandboxInfo,
            row,
            story_age_days=(today - row.anchor_date).days,
            story_state=story_state(row.anchor_date, today, row.story),
            private=row.sandbox_key is not None,
            can_manage=manage,
            sandbox_key=row.sandbox_key if manage else None,
        )
        listed.append(info)
    return SandboxList(sandboxes=listed)


def story_state(anchor: date, today: date, story: str = packs.DEFAULT_PACK) -> StoryState:
    """How a story seeded around anchor reads today (SandboxInfo.story_state)."""
    try:
        renewal = packs.load(story).renewal(anchor)
    except KeyError:  # a pack no longer shipped: told no more until reset to one that is
        return "out_of_range"
    if not story_holds(renewal, today):
        return "out_of_range"
    return "current" if anchor == today else "stale" if anchor < today else "ahead"


def delete_sandbox(name: str, presenter: Presenter) -> None:
    """Remove a sandbox with everything in it, if the presenter may (may_manage). The default one stays:
    clients without the header see it."""
    if name == sandbox.DEFAULT:
        raise Conflict(
            "default_sandbox",
            "The default sandbox cannot be deleted: it is what clients without the "
            "X-Demo-Sandbox header see. Reset it instead.",
        )

    def unit(conn: Connection) -> str | None:
        # As a reset: the story lock first, so its writers and resets finish before (or start after,
        # and find no sandbox), and the owner read is the one the delete acts on.
        queries.lock_story_for_reset(conn, name)
        held = queries.ownership(conn, name)
        if held is None:
            raise sandbox_not_found(name)
        if not may_manage(name, held.owner, presenter):
            raise owned_by_another(name, held.owner)
        queries.delete_sandbox(conn, name)
        return held.owner

    # In the sandbox itself: the login sees (and may delete) that sandbox's row only. One that does not
    # exist is a 404 before anything runs.
    with sandbox.using(name):
        owner = db.run(unit)
    logger.info(
        "sandbox deleted",
        extra={"sandbox": name, "deleted_by": presenter.name, "sandbox_owner": owner, "as_admin": presenter.admin},
    )


@dataclass(frozen=True)
class PrepareResult:
    migrations_applied: list[str]
    seeded: bool
    anchor_date: date
    runtime_login: str | None = None


def prepare_database(wait_seconds: float = 0) -> PrepareResult:
    """What the migrate function does, as the schema's owner: apply pending migrations, provision
    the API functions' login when a runtime secret is configured, then seed the story if absent.
    First it waits up to wait_seconds for PostgreSQL to accept connections: a database the stack
    has just created may not yet."""
    db.wait_until_accepting(wait_seconds)

    def prepare(conn: Connection) -> PrepareResult:
        applied = migrations.migrate(conn)
        login = None
        if secret_arn := get_settings().db_runtime_secret_arn:
            info = conn.info
            login, password = credentials.runtime_login(secret_arn, info.host, info.port, info.dbname)
            roles.provision_login(conn, login, password)
        anchor = clock.demo_anchor()
        return PrepareResult(applied, seed_if_absent(conn, anchor), anchor, login)

    return db.run_idempotent(prepare)


def stories() -> StoryList:
    """Every story pack a sandbox can tell, the default first, with its account and checkpoints."""
    listed = []
    for name in packs.names():
        pack = packs.load(name)
        account = pack.account
        listed.append(
            StoryInfo(
                name=name,
                title=pack.story["title"],
                summary=pack.story["summary"],
                default=pack is ACT1,
                accounts=[
                    StoryAccount(
                        customer_id=account["customer_id"],
                        slug=account["slug"],
                        name=account["name"],
                        csm_name=account["csm_name"],
                    )
                ],
                checkpoints=[StoryCheckpoint(name=c["name"], description=c["description"]) for c in pack.checkpoints],
            )
        )
    return StoryList(stories=listed)

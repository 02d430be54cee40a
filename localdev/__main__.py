"""python -m localdev serve | migrate | refresh | invoke FUNCTION EVENT_FILE | token | sam-env | sam-db"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings
from pathlib import Path

from localdev import stops

LOCAL_ENVIRONMENT = {
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    "POWERTOOLS_METRICS_DISABLED": "true",  # EMF lines would drown the request log
    "POWERTOOLS_SERVICE_NAME": "squelch",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


def _prepare_environment() -> None:
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    # Before anything imports the layer: its logger takes POWERTOOLS_LOG_LEVEL when it is created.
    for key, value in LOCAL_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    from localdev import console_sign_in
    from localdev.database import database_url

    for key, value in console_sign_in.ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    os.environ["DATABASE_URL"] = database_url()


def _serve_as_runtime_login() -> None:
    """The routes connect as the API functions' login, as in AWS (rows only, no DDL, bound by
    row-level security), on the embedded database and on your own alike."""
    from localdev.runtime_login import use_runtime_login

    use_runtime_login()


def _invoke(function_id: str, event: dict) -> object:
    from localdev import runtime, template

    functions = template.load()
    if function_id not in functions:
        sys.exit(f"unknown function {function_id!r}; template.yaml has: {', '.join(sorted(functions))}")
    return runtime.invoke(functions[function_id], event)


def _invoke_as_in_aws(function_id: str, event: dict) -> object:
    """`make invoke`: the migrate function as the owner, as in AWS; any other after it, as the API
    functions' login (the migration also makes sure the login's group exists)."""
    migrate = "DatabaseMigrateFunction"
    if function_id != migrate:
        _invoke(migrate, {})
        _serve_as_runtime_login()
    return _invoke(function_id, event)


def serve(host: str, port: int) -> None:
    from localdev.server import LocalServer

    summary = _invoke("DatabaseMigrateFunction", {})
    _serve_as_runtime_login()
    print(f"database ready: {json.dumps(summary)}", flush=True)
    server = LocalServer(host, port)
    print(f"serving template.yaml's routes on http://{host}:{port}  (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def refresh() -> None:
    """What the schedule does each morning in AWS, as the API functions' login."""
    from localdev.template import ROOT

    _invoke("DatabaseMigrateFunction", {})
    _serve_as_runtime_login()
    scheduled = json.loads((ROOT / "events" / "story_refresh.json").read_text())
    print(json.dumps(_invoke("StoryRefreshFunction", scheduled), indent=2))


def sam_environment_on_your_database(lambda_port: int) -> None:
    """`DATABASE_URL=<your server, as its owner> make sam-env`: the database made if missing, migrated,
    the API functions' login provisioned (as make run does), and the env-vars file pointing sam local's
    containers at that server, as host.docker.internal when it is on this machine."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from localdev import samlocal
    from localdev.database import RUNTIME_LOGIN, create_database

    owner_url = os.environ["DATABASE_URL"]
    create_database(make_conninfo(owner_url, dbname="postgres"), str(conninfo_to_dict(owner_url)["dbname"]))
    _invoke("DatabaseMigrateFunction", {})
    _serve_as_runtime_login()
    written = samlocal.write_env_file(
        samlocal.as_containers_reach_it(os.environ["DATABASE_URL"]),
        migrate_database_url=samlocal.as_containers_reach_it(owner_url),
        lambda_port=lambda_port,
    )
    print(f"wrote {written}: the functions log in as {RUNTIME_LOGIN}, the migrate function as the owner", flush=True)


def sam_database(host: str, port: int, sign_in_port: int, lambda_port: int) -> None:
    """The embedded database, migrated and with the API functions' login, for sam local's containers
    (through a relay: the server listens on a Unix socket only); the env-vars file points them at it,
    and the console at the local sign-in served beside it."""
    import threading

    from localdev import samlocal
    from localdev.database import database_url, runtime_url

    if runtime_url() is None:
        sys.exit("DATABASE_URL names your own server: `DATABASE_URL=... make sam-env` points sam local at it.")
    owner_url = database_url()  # the embedded server's, as its owner (the API's login replaces it below)
    relay = samlocal.Relay(host, port, samlocal.socket_path(owner_url))
    sign_in = samlocal.SignInServer(samlocal.SIGN_IN_HOST, sign_in_port)
    summary = _invoke("DatabaseMigrateFunction", {})
    _serve_as_runtime_login()
    print(f"database ready: {json.dumps(summary)}", flush=True)
    written = samlocal.write_relay_env_file(port, owner_url, sign_in_port, lambda_port=lambda_port)
    print(f"containers reach it as host.docker.internal:{port} (relay on {host}:{port}); wrote {written}", flush=True)
    print(f"the console signs in at {sign_in.origin} (the local sign-in, for sam local's console)", flush=True)
    print("now run sam local start-api or sam local invoke; Ctrl-C stops the relay", flush=True)
    threading.Thread(target=sign_in.serve_forever, daemon=True).start()
    try:
        relay.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sign_in.shutdown()
        sign_in.server_close()
        relay.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localdev", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve every HttpApi route of template.yaml")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    commands.add_parser("migrate", help="run the migrate function: migrations, then the seed if absent")
    commands.add_parser("refresh", help="run the daily refresh: re-seed every stale story around today")
    invoke_cmd = commands.add_parser("invoke", help="invoke one function with an event file")
    invoke_cmd.add_argument("function", help="logical id in template.yaml, e.g. CustomerGetFunction")
    invoke_cmd.add_argument("event", type=Path, help="event JSON, e.g. events/customer_get.json")
    token_cmd = commands.add_parser("token", help="print a bearer token the local server accepts")
    token_cmd.add_argument("--user", default="presenter@squelch.local")
    token_cmd.add_argument("--group", action="append", help="token group (repeatable); default: demo")
    env_cmd = commands.add_parser("sam-env", help="write the env-vars file of sam local (samconfig.toml names it)")
    env_cmd.add_argument("--database-url", help="the database as sam local's containers reach it")
    env_cmd.add_argument("--migrate-database-url", help="the same as the schema's owner, for the migrate function")
    env_cmd.add_argument("--lambda-port", type=int, default=3003, help="sam local start-lambda's, for the preflight")
    db_cmd = commands.add_parser("sam-db", help="serve the embedded database to sam local's containers")
    db_cmd.add_argument("--host", default="127.0.0.1", help="where containers reach this machine (Linux: 172.17.0.1)")
    db_cmd.add_argument("--port", type=int, default=5433)
    db_cmd.add_argument("--sign-in-port", type=int, default=3002, help="the console's local sign-in, on 127.0.0.1")
    db_cmd.add_argument("--lambda-port", type=int, default=3003, help="sam local start-lambda's, for the preflight")
    args = parser.parse_args()
    if args.command == "token":
        from localdev.auth import issue_token

        print(issue_token(args.user, tuple(args.group or ["demo"])))
        return
    if args.command == "sam-env" and (args.database_url or not os.environ.get("DATABASE_URL")):
        from localdev.samlocal import write_env_file

        written = write_env_file(
            args.database_url, migrate_database_url=args.migrate_database_url, lambda_port=args.lambda_port
        )
        print(f"wrote {written}: DATABASE_URL {json.loads(written.read_text())['Parameters']['DATABASE_URL']}")
        return

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    stops.stop_on_signals()
    try:
        _run(args)
        status = 0
    except stops.Stopped as stopped:  # the servers end on it as their normal end; a one-shot command did not finish
        status = stopped.exit_status
    except Exception as error:
        if (reason := _database_failure(error)) is None:
            raise
        print(reason, file=sys.stderr)
        status = 1
    finally:
        stops.ignore()  # the embedded server's last user stops it: nothing may cut that short
        from localdev.database import stop_embedded

        stop_embedded()
    sys.exit(status)


def _database_failure(error: Exception) -> str | None:
    """A database that cannot be used, in one line (no traceback: nothing in this code failed); None
    for any other error."""
    from squelch.db.credentials import tls_problem
    from squelch.errors import Unavailable

    if not isinstance(error, Unavailable):
        return None
    if error.__cause__ is None:
        return error.message
    cause = str(error.__cause__).strip().splitlines()[0]
    return tls_problem(error.__cause__, "DATABASE_URL") or f"{error.message} ({cause})"


def _run(args: argparse.Namespace) -> None:
    _prepare_environment()
    if args.command == "serve":
        serve(args.host, args.port)
    elif args.command == "migrate":
        print(json.dumps(_invoke("DatabaseMigrateFunction", {}), indent=2))
    elif args.command == "refresh":
        refresh()
    elif args.command == "sam-db":
        sam_database(args.host, args.port, args.sign_in_port, args.lambda_port)
    elif args.command == "sam-env":
        sam_environment_on_your_database(args.lambda_port)
    else:
        print(json.dumps(_invoke_as_in_aws(args.function, json.loads(args.event.read_text())), indent=2))


if __name__ == "__main__":
    main()

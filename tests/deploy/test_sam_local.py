"""What `sam local start-api` and `sam local invoke` make of template.yaml, samconfig.toml and the
env-vars file, computed with SAM CLI's own code as those commands run it, without Docker:

- the command line, read with samconfig.toml's local settings by SAM CLI's own click commands;
- the template, read by the stack, function and API providers sam local builds its containers and
  routes from, with the parameter values given;
- each container's environment, resolved by SAM CLI's LocalLambdaRunner from the template's variables,
  the shell and the env-vars file (events/local-env.json plus the key `make sam-env` adds);
- the event a request becomes, built by SAM CLI's local API Gateway (its Flask app), with a stand-in
  for the container that records what it would have been handed.

SAM CLI emulates only Lambda authorizers and skips the HttpApi's JWT authorizer; every route it skips
must reach a function whose environment makes the layer do that part (tests/test_sam_local.py shows
the layer does it, with these environments and events).
"""

from __future__ import annotations

import inspect
import io
import json
import logging
import os
import shutil
import tomllib
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from samcli.cli.main import cli as sam
from samcli.commands.local.cli_common.invoke_context import InvokeContext
from samcli.commands.local.invoke import cli as local_invoke
from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
from samcli.commands.local.start_api import cli as start_api
from samcli.commands.local.start_lambda import cli as start_lambda
from samcli.lib.providers.api_collector import ApiCollector
from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.provider import Stack
from samcli.lib.providers.sam_api_provider import SamApiProvider
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
from samcli.local.apigw.local_apigw_service import LocalApigwService
from stack import ROOT, choice_parameters, defaults, deploy, source

from tools.sam_local_check import sam_local_arguments

# SAM CLI's providers validate the template with samtranslator and jsonschema APIs they deprecate.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
LOCAL_ENV = ROOT / "events" / "local-env.json"
# What `make build-host` builds: sam local runs it (Lambda's arm64 build would need emulation on x86_64).
HOST_BUILD = ".aws-sam/build-host/template.yaml"
# What `make sam-env` adds to events/local-env.json (tests/test_sam_local.py checks that it does).
KEY = "0123456789abcdef" * 4
JWT_AUTHORIZER = "DemoJwt"
MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
# Parameter values a developer may give sam local (--parameter-overrides) that change who needs a token.
CASES = [
    {},
    {"RequireSignIn": "true"},
    {"AiProvider": "bedrock", "BedrockModelId": MODEL},
    {"AiProvider": "bedrock", "BedrockModelId": MODEL, "OpenAiRoutes": "true"},
    {"RequireSignIn": "true", "AiProvider": "bedrock", "BedrockModelId": MODEL, "OpenAiRoutes": "true"},
]


def label(case: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in case.items() if k != "BedrockModelId") or "defaults"


@pytest.fixture(autouse=True)
def _at_the_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """sam runs from a copy of the project's folder (samconfig.toml, template.yaml, the events, and the
    env-vars file `make sam-env` writes, which click wants to exist; a clean clone has none); no
    telemetry, no real credentials."""
    for name in ("samconfig.toml", "template.yaml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    shutil.copytree(ROOT / "events", tmp_path / "events")
    (tmp_path / ".data").mkdir()
    (tmp_path / ".data" / "sam-local-env.json").write_text(LOCAL_ENV.read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAM_CLI_TELEMETRY", "0")
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def command_line(command: list[str], module: Any) -> dict[str, Any]:
    """The values SAM CLI's click command hands to its implementation (samconfig.toml's included)."""
    captured: dict[str, Any] = {}
    signature = inspect.signature(module.do_cli)

    def record(*args: Any, **kwargs: Any) -> None:
        captured.update(signature.bind(*args, **kwargs).arguments)

    with mock.patch.object(module, "do_cli", record):
        result = CliRunner().invoke(sam, command, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return captured


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file `make sam-env` writes: events/local-env.json and the local token key."""
    values = json.loads(LOCAL_ENV.read_text())
    values["Parameters"]["SAM_LOCAL_AUTH_KEY"] = KEY
    path = tmp_path_factory.mktemp("sam-local") / "sam-local-env.json"
    path.write_text(json.dumps(values))
    return path


def stacks(parameters: dict[str, str], language_extensions: bool = True) -> list[Stack]:
    """What InvokeContext reads the template into, for `--parameter-overrides` of these values (with
    AWS::LanguageExtensions on, as samconfig.toml sets for sam local: the log groups and alarms are Fn::ForEach)."""
    found, _ = SamLocalStackProvider.get_stacks(
        str(ROOT / "template.yaml"), parameter_overrides=parameters, language_extensions_enabled=language_extensions
    )
    return found


def container_environments(found: list[Stack], env_file: Path) -> dict[str, dict[str, str]]:
    """Function -> the variables its container starts with, as sam local resolves them."""
    provider = SamFunctionProvider(found)
    runner = LocalLambdaRunner(
        local_runtime=None,  # the Docker side; resolving the environment does not touch it
        function_provider=provider,
        cwd=str(ROOT),
        real_path=str(ROOT),
        env_vars_values=InvokeContext._get_env_vars_value(str(env_file)),
    )
    return {function.name: runner._make_env_vars(function).resolve() for function in provider.get_all()}


def routes_before_linking(found: list[Stack]) -> dict[str, str | None]:
    """ "METHOD /path" -> the authorizer the template gives the route, as SAM CLI reads it before it
    looks for one it can emulate (None: open)."""
    collector = ApiCollector()
    SamApiProvider().extract_resources(found, collector, cwd=str(ROOT))
    default = collector._default_authorizer_per_resource.get("HttpApi")
    return {
        f"{method} {route.path}": route.authorizer_name or (default if route.use_default_authorizer else None)
        for route in collector.all_routes()
        for method in route.methods
    }


# ---- LOCAL.md's commands, read by SAM CLI's own commands with samconfig.toml


def documented(subcommand: str) -> list[list[str]]:
    found = sam_local_arguments(subcommand)
    assert found, f"docs/LOCAL.md shows no `sam local {subcommand}` command"
    return found


def settings(options: dict[str, Any]) -> dict[str, Any]:
    """What a command hands its implementation, less click's context object."""
    return {name: value for name, value in options.items() if name != "ctx"}


def test_samconfig_names_the_build_make_build_host_writes() -> None:
    local = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]
    for command in ("local_start_api", "local_invoke", "local_start_lambda"):
        assert local[command]["parameters"]["template"] == HOST_BUILD
    assert f"--build-dir {Path(HOST_BUILD).parent}" in (ROOT / "Makefile").read_text()


def assert_the_local_settings(options: dict[str, Any], arguments: list[str]) -> None:
    # The build `make build-host` writes, with AWS::LanguageExtensions (the log groups and alarms are Fn::ForEach)
    assert options["template"] == str(Path.cwd() / HOST_BUILD), arguments
    assert options["language_extensions"] is True, arguments
    # The file `make sam-env` / `make sam-db` writes, which holds the database and the token key
    assert options["env_vars"] == ".data/sam-local-env.json", arguments
    # Containers start on first use, not all of them before the first answer
    assert options["warm_containers"] == "LAZY", arguments
    # host.docker.internal is this machine on Linux Docker Engine as on Docker Desktop
    assert options["add_host"] == {"host.docker.internal": "host-gateway"}, arguments


def test_the_documented_start_api_runs_the_host_build_with_the_local_settings() -> None:
    for arguments in documented("start-api"):
        options = command_line(arguments, start_api)
        assert_the_local_settings(options, arguments)
        # No authorizer is switched off: SAM CLI has none to emulate here, and the layer does the JWT part
        assert options["disable_authorizer"] is False, arguments


def test_the_documented_start_lambda_serves_the_preflights_warm_ups_with_the_local_settings() -> None:
    # Given the URL the env-vars file gives the preflight's container for Lambda's Invoke API
    endpoint = urlsplit(json.loads(LOCAL_ENV.read_text())["DemoPreflightFunction"]["LAMBDA_ENDPOINT_URL"])
    for arguments in documented("start-lambda"):
        options = command_line(arguments, start_lambda)
        # Then LOCAL.md's start-lambda runs the build, the file and the settings start-api runs with
        assert_the_local_settings(options, arguments)
        # On the port that URL names, where a container reaches it (the default host, 127.0.0.1, is
        # host.docker.internal on Docker Desktop only; Linux Docker Engine's is the docker0 bridge)
        assert (endpoint.hostname, options["port"]) == ("host.docker.internal", endpoint.port), arguments
    assert any("--host" in arguments for arguments in documented("start-lambda"))


def test_the_documented_invokes_run_the_host_build_with_the_local_settings() -> None:
    invoked = []
    for arguments in documented("invoke"):
        options = command_line(arguments, local_invoke)
        assert options["template"] == str(Path.cwd() / HOST_BUILD), arguments
        assert options["language_extensions"] is True, arguments
        assert options["env_vars"] == ".data/sam-local-env.json", arguments
        assert options["add_host"] == {"host.docker.internal": "host-gateway"}, arguments
        invoked.append(options["function_identifier"])
    # A route's function and the migrate function, which LOCAL.md shows invoked
    assert "DatabaseMigrateFunction" in invoked and set(invoked) - {"DatabaseMigrateFunction"}


@pytest.mark.parametrize(("subcommand", "module"), [("start-api", start_api), ("invoke", local_invoke)])
@pytest.mark.parametrize("samconfig", ["beside", "absent"])
def test_the_documented_flags_are_samconfigs_settings(subcommand: str, module: Any, samconfig: str) -> None:
    # Given LOCAL.md's commands that give samconfig.toml's settings as flags, each the completion of
    # a shorter documented command (--template makes SAM CLI read samconfig.toml beside that template,
    # so the flags are what a user needs with -t, whether the project's samconfig.toml is there or not)
    commands = documented(subcommand)
    explicit = [arguments for arguments in commands if "--env-vars" in arguments]
    assert explicit, f"docs/LOCAL.md gives no `sam local {subcommand}` with samconfig.toml's settings as flags"
    for arguments in explicit:
        [short] = {tuple(other) for other in commands if other != arguments and arguments[: len(other)] == other}
        expected = settings(command_line(list(short), module))
        if samconfig == "absent":
            Path("samconfig.toml").unlink()
        # When SAM CLI reads it / Then it runs exactly as the short command does with samconfig.toml
        assert settings(command_line(arguments, module)) == expected, arguments
        Path("samconfig.toml").write_text((ROOT / "samconfig.toml").read_text())


# ---- the containers' environments


def test_every_function_receives_the_local_database_and_key(env_file: Path) -> None:
    # Given the env-vars file, and a shell that has its own DATABASE_URL (the file wins, as the README says)
    local = json.loads(env_file.read_text())
    with mock.patch.dict(os.environ, {"DATABASE_URL": "postgresql://shell@127.0.0.1/other"}):
        environments = container_environments(stacks({}), env_file)
    # Then every function, the refresh function too, runs under sam local against that database (but
    # the console's settings function, a deploy-time custom resource sam local never runs, and the deploy
    # hook, which only CodeDeploy invokes and only with a gradual DeploymentStrategy), the API's as the API
    # functions' login and the migrate function as the schema's owner
    environments.pop("ConsoleClientSettingsFunction")
    environments.pop("DeployPreTrafficFunction")
    assert set(environments) == set(deploy().sam_functions())
    for function, environment in environments.items():
        database = local.get(function, {}).get("DATABASE_URL", local["Parameters"]["DATABASE_URL"])
        assert environment["DATABASE_URL"] == database, function
        assert environment["DB_SECRET_ARN"] == "", function
        assert environment["SAM_LOCAL_AUTH_KEY"] == KEY, function
        assert environment["AWS_SAM_LOCAL"] == "true", function
        # the local tokens' client, whatever sam local makes of the stack's Cognito clients
        assert environment["JWT_AUDIENCES"] == "squelch-local-demo", function
    # And the database is one a container reaches, as the API functions' login, without TLS (a local server)
    runtime = local["Parameters"]["DATABASE_URL"]
    assert "@host.docker.internal:" in runtime and runtime.endswith("sslmode=disable")
    assert runtime.startswith("postgresql://squelch_app@")


def test_the_migrate_function_runs_as_the_owner_without_a_runtime_secret(env_file: Path) -> None:
    # Given the migrate function's container as sam local starts it with the env-vars file
    environment = container_environments(stacks({}), env_file)["DatabaseMigrateFunction"]
    runtime = urlsplit(json.loads(env_file.read_text())["Parameters"]["DATABASE_URL"])
    owner = urlsplit(environment["DATABASE_URL"])
    # Then it connects as the schema's owner (the embedded server's, which `make sam-db` migrates as),
    # through the same relay, without TLS: the API functions' login may not create tables
    assert owner.username == "postgres"
    assert (owner.hostname, owner.port, owner.path, owner.query) == (
        runtime.hostname,
        runtime.port,
        runtime.path,
        runtime.query,
    )
    # And it is given no secret: the template's runtime secret exists in AWS only (SAM CLI would hand
    # over its logical id), and `make sam-db` has created the API functions' login already
    assert environment["DB_RUNTIME_SECRET_ARN"] == "" and environment["DB_SECRET_ARN"] == ""


def test_the_console_signs_in_at_the_local_sign_in_of_make_sam_db(env_file: Path) -> None:
    # Given the console's container as sam local starts it with the env-vars file
    environment = container_environments(stacks({}), env_file)["ConsoleGetFunction"]
    # Then its page sends presenters to the local sign-in `make sam-db` serves on 127.0.0.1:3002 (the
    # browser's side of the machine), as the local client, with no sign-out page to visit
    assert {name: value for name, value in environment.items() if name.startswith("CONSOLE_")} == {
        "CONSOLE_AUTHORIZE_URL": "http://127.0.0.1:3002/local-sign-in/authorize",
        "CONSOLE_TOKEN_URL": "http://127.0.0.1:3002/local-sign-in/token",
        "CONSOLE_LOGOUT_URL": "",
        "CONSOLE_CLIENT_ID": "squelch-local-console",
        "CONSOLE_SCOPES": "openid",
    }


@pytest.mark.parametrize("case", CASES, ids=label)
def test_no_container_gets_a_value_sam_cli_could_not_resolve(case: dict[str, str], env_file: Path) -> None:
    # Given the template's resources, which exist in AWS only: SAM CLI turns a Ref to one into its
    # logical id and leaves a Sub that names one as written
    resources = set(source()["Resources"])
    # When sam local starts each function's container with the env-vars file
    environments = container_environments(stacks(case), env_file)
    environments.pop("ConsoleClientSettingsFunction")
    # Then no variable of the template holds such a value: the env-vars file gives each a local one
    # (Lambda's own, AWS_*, are SAM CLI's: AWS_LAMBDA_FUNCTION_NAME is rightly the logical id)
    unresolved = {
        f"{function} {name}={value}"
        for function, environment in environments.items()
        for name, value in environment.items()
        if not name.startswith("AWS_") and ("${" in value or value in resources)
    }
    assert unresolved == set()


def test_the_committed_env_file_holds_no_key() -> None:
    assert not json.loads(LOCAL_ENV.read_text())["Parameters"].get("SAM_LOCAL_AUTH_KEY")


@pytest.mark.parametrize("case", CASES, ids=label)
def test_every_route_is_mounted_with_its_method_as_in_aws(case: dict[str, str]) -> None:
    # Given the routes API Gateway would serve with these values
    in_aws = deploy(**case).function_of_route()
    # When sam local reads the template with the same values
    api = ApiProvider(stacks(case), cwd=str(ROOT)).api
    mounted = {
        f"{method} {route.path}": route.function_name
        for route in api.routes
        for method in route.methods
        if method != "OPTIONS"  # the preflight SAM CLI adds for the HttpApi's CORS configuration
    }
    # Then it mounts each of them, with its method, on the same function
    assert mounted == in_aws
    assert len(mounted) == 18  # the API's 17 routes and the presenter console


@pytest.mark.parametrize("case", CASES, ids=label)
def test_every_authorizer_sam_local_skips_is_done_by_the_layer(
    case: dict[str, str], env_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given the authorizer of each route in AWS, for these values
    stack = deploy(**case)
    in_aws, function_of = stack.route_authorizers(), stack.function_of_route()
    found = stacks(case)
    # When sam local reads the routes (it says which authorizers it skips) and starts the containers
    assert routes_before_linking(found) == in_aws
    with caplog.at_level(logging.WARNING, logger="samcli.lib.providers.api_collector"):
        api = ApiProvider(found, cwd=str(ROOT)).api
    skipped = {f"{route} {path}" for path, route in _skipped(caplog, api)}
    environments = container_environments(found, env_file)
    # Then every route that has an authorizer in AWS is one SAM CLI skips, and authorizes nothing itself
    assert skipped == {route for route, authorizer in in_aws.items() if authorizer}
    assert all(route.authorizer_object is None for route in api.routes)
    # And its function runs with what makes the layer do the authorizer's part: the emulation's mark,
    # the key, and the route's authorizer; every open route's function says NONE
    for route, authorizer in in_aws.items():
        environment = environments[function_of[route]]
        assert environment["ROUTE_AUTHORIZER"] == (authorizer or "NONE"), route
        assert (environment["AWS_SAM_LOCAL"], environment["SAM_LOCAL_AUTH_KEY"]) == ("true", KEY), route
    # And with RequireSignIn=true that is every route of the API (the console's page stays open:
    # it holds no data, and its calls to the API need the token)
    if case.get("RequireSignIn") == "true":
        assert {a for route, a in in_aws.items() if route != "GET /console"} == {JWT_AUTHORIZER}
        assert in_aws["GET /console"] is None


def _skipped(caplog: pytest.LogCaptureFixture, api: Any) -> list[tuple[str, str]]:
    """(path, method) of each route whose authorizer SAM CLI logged as skipped."""
    paths = [record.args[1] for record in caplog.records if "was not found, skipping" in record.getMessage()]
    return [
        (path, method)
        for path in paths
        for route in api.routes
        if route.path == path
        for method in route.methods
        if method != "OPTIONS"
    ]


# ---- the event a request becomes


class RecordingRunner:
    """Stands in for the Docker container: records the function and event, answers 200."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def is_debugging(self) -> bool:
        return False

    def invoke(self, function_name: str, event: str, stdout: Any, stderr: Any, **_: Any) -> None:
        self.calls.append((function_name, json.loads(event)))
        stdout.write_str(json.dumps({"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{}"}))


@pytest.fixture
def sam_local_api() -> tuple[Any, RecordingRunner]:
    runner = RecordingRunner()
    service = LocalApigwService(
        api=ApiProvider(stacks({"RequireSignIn": "true"}), cwd=str(ROOT)).api,
        lambda_runner=runner,
        port=3148,
        host="127.0.0.1",
        stderr=io.StringIO(),
    )
    service.create()
    return service._app.test_client(), runner


def test_sam_local_hands_the_function_the_bearer_token_and_no_claims(
    sam_local_api: tuple[Any, RecordingRunner],
) -> None:
    client, runner = sam_local_api
    # When a client resets with a bearer token through sam local's API Gateway
    response = client.post(
        "/api/demo/reset",
        data=b'{"confirm": true}',
        headers={"Authorization": "Bearer a.b.c", "Content-Type": "application/json"},
    )
    # Then the reset's function gets the request, with the header as sent and no authorizer's claims
    assert response.status_code == 200
    [(function, event)] = runner.calls
    assert function == "DemoResetFunction" and event["version"] == "2.0"
    assert {k.lower(): v for k, v in event["headers"].items()}["authorization"] == "Bearer a.b.c"
    assert "authorizer" not in event["requestContext"]
    assert event["routeKey"] == "POST /api/demo/reset" and json.loads(event["body"]) == {"confirm": True}


def test_each_request_reaches_its_function_through_sam_local(sam_local_api: tuple[Any, RecordingRunner]) -> None:
    client, runner = sam_local_api
    in_aws = deploy(RequireSignIn="true").function_of_route()
    for route, function in in_aws.items():
        method, path = route.split(" ", 1)
        concrete = path.replace("{customer_ref}", "aco").replace("{session_id}", "wf-1").replace("{name}", "acme")
        response = client.open(concrete, method=method, headers={"Authorization": "Bearer a.b.c"})
        assert response.status_code == 200, route
        assert runner.calls[-1][0] == function, route


def test_what_sam_local_answers_itself(sam_local_api: tuple[Any, RecordingRunner]) -> None:
    """The differences from AWS the README and API-CONTRACT state for sam local."""
    client, runner = sam_local_api
    # An unknown path or method: SAM CLI's REST-API answer (an HTTP API says 404 {"message": "Not Found"})
    for method, path in [("GET", "/api/nothing"), ("DELETE", "/api/customers/aco")]:
        response = client.open(path, method=method)
        assert (response.status_code, response.get_json()) == (403, {"message": "Missing Authentication Token"})
    # A preflight: answered from the HttpApi's CORS configuration, as API Gateway does
    preflight = client.options(
        "/api/demo/reset", headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "X-Demo-Sandbox" in preflight.headers["Access-Control-Allow-Headers"]
    # An answer: the function's headers pass through, and CORS is added, but not ExposeHeaders (so a
    # page reads why a token was refused from our body's code, not from WWW-Authenticate)
    answer = client.post("/api/demo/reset", headers={"Origin": "http://localhost:5173"})
    assert answer.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "Access-Control-Expose-Headers" not in answer.headers
    assert runner.calls == [("DemoResetFunction", runner.calls[0][1])]


# ---- in AWS nothing of this is set


@pytest.mark.parametrize(
    "case",
    [{}]
    + [{name: value} for name, values in choice_parameters().items() for value in values if value != defaults()[name]],
    ids=lambda case: label(case),
)
def test_a_deployed_function_never_emulates(case: dict[str, str]) -> None:
    # Given the stack as CloudFormation creates it
    overrides = {**case, "BedrockModelId": MODEL} if case.get("AiProvider") == "bedrock" else case
    stack = deploy(**overrides)
    in_aws, function_of = stack.route_authorizers(), stack.function_of_route()
    for function in stack.of_type("AWS::Lambda::Function"):
        environment = stack.environment(function)
        # Then no function is told it runs under SAM CLI, holds a key, or points at a local database
        assert "AWS_SAM_LOCAL" not in environment, function
        if function not in stack.sam_functions():  # the console's inline settings function: its stack's client only
            assert set(environment) == {
                "USER_POOL_ID",
                "CLIENT_ID",
                "CLIENT_NAME",
                "CONSOLE_URL",
                "SCOPES",
                "REFRESH_TOKEN_HOURS",
            }, function
            continue
        assert environment["SAM_LOCAL_AUTH_KEY"] == "" and environment["DATABASE_URL"] == "", function
    # And ROUTE_AUTHORIZER, read only under sam local, tells each function its route's authorizer in AWS
    for route, authorizer in in_aws.items():
        assert stack.environment(function_of[route])["ROUTE_AUTHORIZER"] == (authorizer or "NONE"), route

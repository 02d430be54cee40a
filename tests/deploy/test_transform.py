"""The SAM transform, run as CloudFormation runs it (stack.py), accepts template.yaml with its
defaults and with every value of every choice parameter, and the stack it describes has the
authorizers, policies and settings that each choice promises."""

from __future__ import annotations

import copy
import itertools
import json

import pytest
from stack import ACCOUNT, EXISTING, REGION, choice_parameters, defaults, deploy, source

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
PRESENTER_ROUTES = {
    "POST /api/demo/reset",
    "GET /api/demo/sandboxes",
    "GET /api/demo/stories",
    "DELETE /api/demo/sandboxes/{name}",
    "POST /api/demo/preflight",
}
AI_ROUTES = {"POST /api/ai/risk-analysis", "POST /api/ai/opportunity-analysis", "POST /api/ai/email-draft"}
CONSOLE_ROUTE = "GET /console"
ROUTES = 18
# Functions that neither use the database nor run the layer: the console's page and the custom
# resource that gives the console's app client its sign-in settings.
CONSOLE_FUNCTIONS = {"ConsoleGetFunction", "ConsoleClientSettingsFunction"}


def one_at_a_time() -> list[dict[str, str]]:
    """The defaults, then each choice parameter's other values, one parameter at a time."""
    cases = [{}]
    for name, values in choice_parameters().items():
        cases += [{name: value} for value in values if value != defaults()[name]]
    return cases


def with_model(case: dict[str, str]) -> dict[str, str]:
    """The case with what its choices need: a model for Bedrock, a database for DatabaseMode=existing."""
    if case.get("AiProvider") == "bedrock":
        case = {**case, "BedrockModelId": MODEL}
    return {**EXISTING, **case} if case.get("DatabaseMode") == "existing" else case


def label(case: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in case.items()) or "defaults"


def expected_authorizer(route: str, parameters: dict[str, str]) -> str | None:
    """The rule the parameters promise: the presenters' routes always need a token; the AI routes need
    one when every route does, or when they would spend Bedrock money and nobody opened them on purpose.
    The console's page is always open: it holds no data, and signing in starts there."""
    if route == CONSOLE_ROUTE:
        return None
    if route in PRESENTER_ROUTES:
        return "DemoJwt"
    if parameters["RequireSignIn"] == "true":
        return "DemoJwt"
    if route in AI_ROUTES and parameters["AiProvider"] == "bedrock" and parameters["OpenAiRoutes"] == "false":
        return "DemoJwt"
    return None


@pytest.mark.parametrize("case", one_at_a_time(), ids=label)
def test_each_choice_translates_and_routes_follow_the_sign_in_rule(case: dict[str, str]) -> None:
    stack = deploy(**with_model(case))
    authorizers = stack.route_authorizers()
    assert len(authorizers) == ROUTES
    assert authorizers == {route: expected_authorizer(route, stack.parameters) for route in authorizers}


INTERACTING = [
    dict(zip(("RequireSignIn", "AiProvider", "OpenAiRoutes", "JwtIssuer"), values, strict=False))
    for values in itertools.product(
        ["true", "false"], ["canned", "bedrock"], ["true", "false"], ["", "https://login.example.com/"]
    )
]


@pytest.mark.parametrize("case", INTERACTING, ids=label)
def test_sign_in_ai_provider_and_identity_provider_together(case: dict[str, str]) -> None:
    overrides = with_model(case)
    if case["JwtIssuer"]:
        overrides["JwtAudience"] = "squelch-demo"
    stack = deploy(**overrides)
    authorizers = stack.route_authorizers()
    assert authorizers == {route: expected_authorizer(route, stack.parameters) for route in authorizers}
    assert ("UserPool" in stack.resources) == (case["JwtIssuer"] == "")
    for function in stack.of_type("AWS::Lambda::Function"):
        bedrock = [s for s in stack.statements(function) if "bedrock:InvokeModel" in json.dumps(s)]
        ai_function = function in {stack.function_of_route()[route] for route in AI_ROUTES}
        assert bool(bedrock) == (ai_function and case["AiProvider"] == "bedrock"), function


@pytest.mark.parametrize("model", [MODEL, f"us.{MODEL}"], ids=["model", "inference-profile"])
def test_bedrock_is_granted_the_configured_model_only(model: str) -> None:
    stack = deploy(AiProvider="bedrock", BedrockModelId=model)
    for function in {stack.function_of_route()[route] for route in AI_ROUTES}:
        statements = [s for s in stack.statements(function) if "bedrock" in json.dumps(s)]
        for statement in statements:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in map(json.dumps, resources):
                profile = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{model}"
                if resource.endswith('/*"'):  # any model, but only through this model's inference profile
                    assert statement["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": profile}}
                else:
                    assert resource.endswith(f'/{model}"'), resource


def test_no_function_role_has_a_wildcard_action() -> None:
    stack = deploy(AiProvider="bedrock", BedrockModelId=MODEL)
    for function in stack.of_type("AWS::Lambda::Function"):
        for statement in stack.statements(function):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any(a == "*" or a.endswith(":*") for a in actions), (function, actions)


def test_cognito_user_pool_is_kept_hardened_and_sessions_are_short() -> None:
    stack = deploy()
    pool = stack.resources["UserPool"]
    assert pool["DeletionPolicy"] == "Retain" and pool["UpdateReplacePolicy"] == "Retain"
    assert pool["Properties"]["DeletionProtection"] == "ACTIVE"
    # Presenters may add a TOTP authenticator by default
    assert pool["Properties"]["MfaConfiguration"] == "OPTIONAL"
    assert pool["Properties"]["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    client = stack.resources["UserPoolClient"]["Properties"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert (str(client["RefreshTokenValidity"]), client["TokenValidityUnits"]["RefreshToken"]) == ("24", "hours")


def test_the_general_client_signs_in_with_srp_only_never_a_password_sent_as_it_is() -> None:
    # The console signs in through its own client's hosted pages (code + PKCE), AddDemoUser is an admin
    # call: nothing needs the password flow, which sends the password itself to Cognito
    client = deploy().resources["UserPoolClient"]["Properties"]
    assert client["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["GenerateSecret"] is False


def test_presenter_mfa_can_be_turned_off() -> None:
    pool = deploy(PresenterMfa="OFF").resources["UserPool"]["Properties"]
    assert pool["MfaConfiguration"] == "OFF" and "EnabledMfas" not in pool


@pytest.mark.parametrize("mode", ["OFF", "AUDIT", "ENFORCED"])
def test_threat_protection_is_a_choice_and_moves_the_pool_to_the_plus_plan(mode: str) -> None:
    pool = deploy(PresenterThreatProtection=mode).resources["UserPool"]["Properties"]
    if mode == "OFF":
        # Essentials, Cognito's default plan for a new pool: its first 10,000 monthly users are free
        assert "UserPoolAddOns" not in pool and pool.get("UserPoolTier", "ESSENTIALS") == "ESSENTIALS"
    else:
        # Threat protection is a feature of the Plus plan only
        assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": mode} and pool["UserPoolTier"] == "PLUS"
    assert deploy().parameters["PresenterThreatProtection"] == "OFF"


def layer_functions(stack) -> list[str]:
    """The functions that run the shared layer (Powertools, the database code); SAM names each layer
    version SharedLayer<hash>."""
    return [
        name
        for name, function in stack.of_type("AWS::Lambda::Function").items()
        if any(
            str(layer.get("Ref", "")).startswith("SharedLayer") for layer in function["Properties"].get("Layers", [])
        )
    ]


def test_tracer_never_records_responses() -> None:
    stack = deploy()
    assert set(stack.of_type("AWS::Lambda::Function")) - set(layer_functions(stack)) == {
        "ConsoleClientSettingsFunction"
    }
    for function in layer_functions(stack):
        assert stack.environment(function)["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false", function


def test_groups_claim_reaches_the_functions() -> None:
    stack = deploy(GroupsClaim="groups")
    assert stack.environment("DemoResetFunction")["DEMO_GROUPS_CLAIM"] == "groups"


@pytest.mark.parametrize("mode", ["create", "existing"])
@pytest.mark.parametrize(
    "runtime_secret",
    ["", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:squelch-app-XyZ"],
    ids=["generated", "given"],
)
def test_only_the_migrate_function_reads_the_owners_secret(mode: str, runtime_secret: str) -> None:
    stack = deploy(**with_model({"DatabaseMode": mode}), DbRuntimeSecretArn=runtime_secret)
    owner = stack.parameters["DbSecretArn"] if mode == "existing" else {"Ref": "DatabaseOwnerSecret"}
    runtime = runtime_secret or {"Ref": "RuntimeDbSecret"}
    assert ("RuntimeDbSecret" in stack.resources) == (runtime_secret == "")
    for function in stack.of_type("AWS::Lambda::Function"):
        reads = stack.granted(function, "secretsmanager:GetSecretValue")
        writes = stack.granted(function, "secretsmanager:PutSecretValue")
        if function == "DatabaseMigrateFunction":
            assert sorted(map(json.dumps, reads)) == sorted(map(json.dumps, [owner, runtime]))
            assert writes == [runtime]
            assert stack.environment(function)["DB_SECRET_ARN"] == owner
            assert stack.environment(function)["DB_RUNTIME_SECRET_ARN"] == runtime
        elif function in CONSOLE_FUNCTIONS:
            assert (reads, writes) == ([], []), function
        else:
            assert (reads, writes) == ([runtime], []), function
            assert stack.environment(function)["DB_SECRET_ARN"] == runtime, function


@pytest.mark.parametrize("bundle", ["", "/opt/python/certs/global-bundle.pem"])
def test_database_tls_settings_reach_every_function(bundle: str) -> None:
    stack = deploy(DbCaBundlePath=bundle)
    for function in layer_functions(stack):
        assert stack.environment(function)["DB_SSLROOTCERT"] == bundle, function


@pytest.mark.parametrize("schedule", [None, "rate(12 hours)", ""], ids=["default", "custom", "off"])
def test_the_daily_refresh_is_scheduled_unless_turned_off(schedule: str | None) -> None:
    stack = deploy(**({} if schedule is None else {"RefreshSchedule": schedule}))
    expression = stack.parameters["RefreshSchedule"]
    rules, permissions = stack.of_type("AWS::Events::Rule"), stack.of_type("AWS::Lambda::Permission")
    assert "StoryRefreshFunction" in stack.of_type("AWS::Lambda::Function")  # `make refresh` and by-hand runs
    if expression == "":
        # Nothing invokes the refresh, and nothing may
        assert rules == {} and "StoryRefreshInvokePermission" not in permissions
        return
    [rule] = rules.values()
    assert rule["Properties"]["ScheduleExpression"] == (schedule or "cron(30 4 * * ? *)")
    assert rule["Properties"]["State"] == "ENABLED"
    [target] = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["StoryRefreshFunction", "Arn"]}
    permission = permissions["StoryRefreshInvokePermission"]["Properties"]
    assert (permission["Principal"], permission["FunctionName"]) == (
        "events.amazonaws.com",
        {"Ref": "StoryRefreshFunction"},
    )
    assert permission["SourceArn"] == {"Fn::GetAtt": ["StoryRefreshSchedule", "Arn"]}


# ---- the presenter console's sign-in


def console_env(stack) -> dict[str, object]:
    return {k: v for k, v in stack.environment("ConsoleGetFunction").items() if k.startswith("CONSOLE_")}


def audience(stack) -> list[object]:
    [api] = stack.of_type("AWS::ApiGatewayV2::Api").values()
    scheme = api["Properties"]["Body"]["components"]["securitySchemes"]["DemoJwt"]
    return scheme["x-amazon-apigateway-authorizer"]["jwtConfiguration"]["audience"]


EXTERNAL = {"JwtIssuer": "https://login.example.com/", "JwtAudience": "squelch-demo"}


@pytest.mark.parametrize(
    "case", [{}, EXTERNAL, EXTERNAL | {"ConsoleClientId": "console-client-id"}], ids=["cognito", "external", "console"]
)
def test_the_functions_accept_the_clients_the_authorizer_accepts(case: dict[str, str]) -> None:
    # Given the audience the HttpApi's JWT authorizer checks (the stack's own clients)
    stack = deploy(**case)
    accepted = audience(stack)
    # Then every function checks a token's audience against the same list (squelch.http.auth)
    for function in layer_functions(stack):
        value = stack.environment(function)["JWT_AUDIENCES"]
        assert value in ({"Fn::Join": [",", accepted]}, ",".join(map(str, accepted))), function


def test_the_console_signs_in_at_the_user_pools_hosted_domain_with_its_own_client() -> None:
    stack = deploy()
    domain = stack.resources["ConsoleSignInDomain"]["Properties"]
    assert domain["UserPoolId"] == {"Ref": "UserPool"}
    assert domain["Domain"] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
    hosted = "https://${ConsoleSignInDomain}.auth." + REGION + ".amazoncognito.com"
    assert console_env(stack) == {
        "CONSOLE_AUTHORIZE_URL": f"{hosted}/oauth2/authorize",
        "CONSOLE_TOKEN_URL": f"{hosted}/oauth2/token",
        "CONSOLE_LOGOUT_URL": f"{hosted}/logout",
        "CONSOLE_CLIENT_ID": {"Ref": "ConsoleClient"},
        "CONSOLE_SCOPES": "openid email",
    }
    # The console's tokens are accepted by the API, as the other client's are
    assert audience(stack) == [{"Ref": "UserPoolClient"}, {"Ref": "ConsoleClient"}]
    # The client is created bare; the custom resource gives it its callback, the console's own URL
    assert stack.resources["ConsoleClient"]["Properties"] == {
        "UserPoolId": {"Ref": "UserPool"},
        "ClientName": "squelch-act1-console",
        "GenerateSecret": False,
    }
    settings = stack.resources["ConsoleClientSettings"]["Properties"]
    assert settings["ConsoleUrl"] == stack.outputs["ConsoleUrl"]["Value"]
    assert settings["ConsoleUrl"] == "https://${HttpApi}.execute-api." + REGION + ".amazonaws.com/console"
    assert (settings["ClientId"], settings["UserPoolId"]) == ({"Ref": "ConsoleClient"}, {"Ref": "UserPool"})
    assert (settings["Scopes"], str(settings["RefreshTokenHours"])) == ("openid email", "24")
    assert settings["ServiceToken"] == {"Fn::GetAtt": ["ConsoleClientSettingsFunction", "Arn"]}
    assert {"ConsoleUrl", "ConsoleSignInUrl", "ConsoleClientId"} <= set(stack.outputs)


def test_the_client_settings_function_may_only_update_the_pools_clients_and_runs_outside_the_vpc() -> None:
    stack = deploy()
    function = stack.resources["ConsoleClientSettingsFunction"]["Properties"]
    assert "VpcConfig" not in function and "Layers" not in function
    statements = stack.statements("ConsoleClientSettingsFunction")
    assert statements == [
        {
            "Effect": "Allow",
            "Action": "cognito-idp:UpdateUserPoolClient",
            "Resource": {"Fn::GetAtt": ["UserPool", "Arn"]},
        }
    ]
    assert stack.statements("ConsoleGetFunction") == [], "the console's page needs no permission"


@pytest.mark.parametrize(
    "case", [{}, {"ConsoleScopes": "openid", "PresenterRefreshHours": "8"}], ids=["defaults", "own"]
)
def test_the_client_settings_function_knows_the_values_its_resource_names(case: dict[str, str]) -> None:
    # Given the function that sets the console's client, which takes every value from its environment and
    # refuses a request naming another (tests/test_console.py)
    stack = deploy(**case)
    properties = stack.resources["ConsoleClientSettings"]["Properties"]
    environment = stack.environment("ConsoleClientSettingsFunction")
    # Then CloudFormation's own request names exactly the values it is told, so a deploy is never refused
    variables = {
        "UserPoolId": "USER_POOL_ID",
        "ClientId": "CLIENT_ID",
        "ClientName": "CLIENT_NAME",
        "ConsoleUrl": "CONSOLE_URL",
        "Scopes": "SCOPES",
        "RefreshTokenHours": "REFRESH_TOKEN_HOURS",
    }
    assert set(properties) - {"ServiceToken"} == set(variables)
    for name, variable in variables.items():
        assert environment[variable] == properties[name], name


def test_the_console_domain_prefix_can_be_chosen() -> None:
    stack = deploy(ConsoleDomainPrefix="squelch-demo-eu")
    assert stack.resources["ConsoleSignInDomain"]["Properties"]["Domain"] == "squelch-demo-eu"


@pytest.mark.parametrize("console_client", ["", "console-client-id"], ids=["audience", "own-client"])
def test_with_an_external_provider_the_console_reads_its_endpoints_from_parameters(console_client: str) -> None:
    stack = deploy(
        JwtIssuer="https://login.example.com/",
        JwtAudience="squelch-demo",
        ConsoleAuthorizeUrl="https://login.example.com/authorize",
        ConsoleTokenUrl="https://login.example.com/oauth/token",
        ConsoleClientId=console_client,
        ConsoleScopes="openid groups",
    )
    assert not [name for name in stack.resources if name.startswith(("ConsoleClient", "ConsoleSignIn"))]
    assert console_env(stack) == {
        "CONSOLE_AUTHORIZE_URL": "https://login.example.com/authorize",
        "CONSOLE_TOKEN_URL": "https://login.example.com/oauth/token",
        "CONSOLE_LOGOUT_URL": "",
        "CONSOLE_CLIENT_ID": console_client or "squelch-demo",
        "CONSOLE_SCOPES": "openid groups",
    }
    assert audience(stack) == ["squelch-demo", *([console_client] if console_client else [])]
    assert {"ConsoleSignInUrl", "ConsoleClientId"}.isdisjoint(stack.outputs) and "ConsoleUrl" in stack.outputs


@pytest.mark.parametrize("case", INTERACTING, ids=label)
def test_the_stack_has_no_dependency_cycle(case: dict[str, str]) -> None:
    overrides = with_model(case)
    if case["JwtIssuer"]:
        overrides["JwtAudience"] = "squelch-demo"
    assert deploy(**overrides).cycle() is None


def test_a_console_client_naming_its_callback_itself_would_be_a_cycle() -> None:
    # Given the console's client with its callback, the console's URL on the HttpApi, set on the client itself
    naive = copy.deepcopy(source())
    naive["Resources"]["ConsoleClient"]["Properties"]["CallbackURLs"] = [
        {"Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/console"}
    ]
    # Then the HttpApi (whose authorizer names the client) and the client need each other first
    cycle = deploy(naive).cycle()
    assert cycle is not None and {"HttpApi", "ConsoleClient"} <= set(cycle), cycle


def test_the_stacks_user_pool_has_the_presenters_and_the_administrators_groups() -> None:
    # Given the stack with its own user pool, and group names of the operator's choosing
    stack = deploy(DemoGroup="presenters", DemoAdminGroup="admins")
    groups = {g["Properties"]["GroupName"] for g in stack.of_type("AWS::Cognito::UserPoolGroup").values()}
    # Then both groups the functions check exist in it, and the functions are told their names
    assert groups == {"presenters", "admins"}
    assert stack.environment("DemoResetFunction")["DEMO_ADMIN_GROUP"] == "admins"
    # And with an identity provider of the operator's (JwtIssuer), the stack creates neither
    assert not deploy(JwtIssuer="https://idp.example.com", JwtAudience="client").of_type("AWS::Cognito::UserPoolGroup")

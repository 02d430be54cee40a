"""DatabaseMode, rendered as CloudFormation would create it (stack.py): with `create` the stack brings
its own private network, PostgreSQL and credentials; with `existing` it uses the operator's, as before."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stack import EXISTING, Stack, deploy

POSTGRES = 5432
NETWORK_AND_DATABASE = {
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::VPCEndpoint",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::RDS::DBSubnetGroup",
    "AWS::RDS::DBInstance",
    "AWS::SecretsManager::SecretTargetAttachment",
}
CREATED = [
    {},
    {"DatabaseProxy": "true"},
    {"AiProvider": "bedrock", "BedrockModelId": "anthropic.claude-3-5-haiku-20241022-v1:0"},
]


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def text(value: Any) -> str:
    """An Fn::Sub's text: SAM CLI's LanguageExtensions hands a Sub on as its plain string."""
    return str(value["Fn::Sub"]) if isinstance(value, dict) else str(value)


def functions(stack: Stack) -> dict[str, dict[str, Any]]:
    return stack.sam_functions()


def label(case: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in case.items() if k != "BedrockModelId") or "defaults"


def test_the_defaults_create_the_database_so_a_guided_deploy_needs_no_answer() -> None:
    # Given every parameter at its default
    stack = deploy()
    # Then the stack makes its own network and database
    assert stack.parameters["DatabaseMode"] == "create"
    kinds = {r["Type"] for r in stack.resources.values()}
    assert kinds >= NETWORK_AND_DATABASE


@pytest.mark.parametrize("case", CREATED, ids=label)
def test_functions_run_in_two_private_subnets_of_a_vpc_with_no_way_out(case: dict[str, str]) -> None:
    stack = deploy(**case)
    subnets = stack.of_type("AWS::EC2::Subnet")
    # Two subnets in two different availability zones, with no public addresses
    assert sorted(subnets) == ["PrivateSubnetA", "PrivateSubnetB"]
    zones = [json.dumps(s["Properties"]["AvailabilityZone"]) for s in subnets.values()]
    assert len(set(zones)) == 2
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())
    # No internet gateway, NAT gateway, route or public address anywhere
    kinds = {r["Type"] for r in stack.resources.values()}
    assert not kinds & {"AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::Route", "AWS::EC2::EIP"}
    # Every function is in both private subnets, behind the functions' security group
    for name, function in functions(stack).items():
        vpc = function["Properties"]["VpcConfig"]
        assert vpc == {
            "SubnetIds": [ref("PrivateSubnetA"), ref("PrivateSubnetB")],
            "SecurityGroupIds": [ref("FunctionSecurityGroup")],
        }, name
    # Both subnets use the one route table, the one the S3 gateway endpoint adds its route to
    associations = stack.of_type("AWS::EC2::SubnetRouteTableAssociation").values()
    assert sorted(a["Properties"]["SubnetId"]["Ref"] for a in associations) == ["PrivateSubnetA", "PrivateSubnetB"]
    assert {json.dumps(a["Properties"]["RouteTableId"]) for a in associations} == {json.dumps(ref("PrivateRouteTable"))}


@pytest.mark.parametrize("case", CREATED, ids=label)
def test_endpoints_reach_s3_secrets_manager_lambda_and_bedrock_only_when_it_is_used(case: dict[str, str]) -> None:
    stack = deploy(**case)
    endpoints = {
        text(e["Properties"]["ServiceName"]).rsplit(".", 1)[1]: e["Properties"]
        for e in stack.of_type("AWS::EC2::VPCEndpoint").values()
    }
    # lambda: the preflight warms the route functions through Lambda's API
    expected = {"s3", "secretsmanager", "lambda"} | (
        {"bedrock-runtime"} if case.get("AiProvider") == "bedrock" else set()
    )
    assert set(endpoints) == expected
    assert endpoints["s3"]["VpcEndpointType"] == "Gateway"
    assert endpoints["s3"]["RouteTableIds"] == [ref("PrivateRouteTable")]
    for service in expected - {"s3"}:
        endpoint = endpoints[service]
        assert (endpoint["VpcEndpointType"], endpoint["PrivateDnsEnabled"]) == ("Interface", True)
        assert endpoint["SecurityGroupIds"] == [ref("EndpointSecurityGroup")]
    # Private DNS answers the services' own names only in a VPC with DNS hostnames
    vpc = stack.resources["Vpc"]["Properties"]
    assert vpc["EnableDnsSupport"] is True and vpc["EnableDnsHostnames"] is True


@pytest.mark.parametrize("case", CREATED, ids=label)
def test_only_the_functions_and_the_proxy_reach_postgresql(case: dict[str, str]) -> None:
    stack = deploy(**case)
    rules = stack.security_group_rules()
    # Nothing is open to the world on any port, inbound
    for rule in rules:
        if rule.direction == "ingress":
            assert rule.peer not in ("0.0.0.0/0", "::/0"), rule
    # PostgreSQL's port is reachable from the functions' group (and the proxy's) only, never a CIDR
    into_database = [r for r in rules if r.direction == "ingress" and r.group == ref("DatabaseSecurityGroup")]
    proxy = case.get("DatabaseProxy") == "true"
    expected = [ref("FunctionSecurityGroup")] + ([ref("ProxySecurityGroup")] if proxy else [])
    assert sorted(map(json.dumps, (r.peer for r in into_database))) == sorted(map(json.dumps, expected))
    assert all(r.covers(POSTGRES) and r.rule["FromPort"] == r.rule["ToPort"] == POSTGRES for r in into_database)
    # No group other than the database's and the proxy's lets anything in on that port
    for rule in rules:
        if rule.direction == "ingress" and rule.covers(POSTGRES):
            assert rule.group in (ref("DatabaseSecurityGroup"), ref("ProxySecurityGroup")), rule
            assert rule.peer == ref("FunctionSecurityGroup") or rule.peer == ref("ProxySecurityGroup"), rule
    # The database and the endpoints send nothing out; the functions reach PostgreSQL and 443 only
    for group in ("DatabaseSecurityGroup", "EndpointSecurityGroup"):
        out = [r for r in rules if r.direction == "egress" and r.group == ref(group)]
        assert [r.peer for r in out] == ["255.255.255.255/32"], group
    functions_out = [r for r in rules if r.direction == "egress" and r.group == ref("FunctionSecurityGroup")]
    for rule in functions_out:
        if rule.peer == "0.0.0.0/0":
            assert (rule.rule["FromPort"], rule.rule["ToPort"]) == (443, 443)
        else:
            assert rule.peer in (ref("DatabaseSecurityGroup"), ref("ProxySecurityGroup")) and rule.covers(POSTGRES)
    # The endpoints take HTTPS from the functions only
    into_endpoints = [r for r in rules if r.direction == "ingress" and r.group == ref("EndpointSecurityGroup")]
    assert [(r.peer, r.rule["FromPort"], r.rule["ToPort"]) for r in into_endpoints] == [
        (ref("FunctionSecurityGroup"), 443, 443)
    ]


def test_postgresql_is_private_encrypted_backed_up_and_protected_by_default() -> None:
    database = deploy().resources["Database"]
    props = database["Properties"]
    assert props["Engine"] == "postgres" and int(props["EngineVersion"]) >= 16
    assert props["PubliclyAccessible"] is False
    assert props["StorageEncrypted"] is True
    assert int(props["BackupRetentionPeriod"]) >= 1
    assert props["DeletionProtection"] == "true"
    assert database["DeletionPolicy"] == database["UpdateReplacePolicy"] == "Snapshot"
    assert props["DBInstanceClass"] == "db.t4g.micro"  # Graviton, the smallest
    assert props["VPCSecurityGroups"] == [ref("DatabaseSecurityGroup")]
    group = deploy().resources["DatabaseSubnetGroup"]["Properties"]
    assert group["SubnetIds"] == [ref("PrivateSubnetA"), ref("PrivateSubnetB")]


def test_protection_and_the_final_snapshot_can_be_turned_off_for_teardown() -> None:
    database = deploy(DatabaseDeletionProtection="false", DatabaseSnapshotOnDelete="false").resources["Database"]
    assert database["Properties"]["DeletionProtection"] == "false"
    assert database["DeletionPolicy"] == database["UpdateReplacePolicy"] == "Delete"


def test_the_owner_secret_is_generated_and_completed_into_the_shape_the_code_reads() -> None:
    stack = deploy()
    secret = stack.resources["DatabaseOwnerSecret"]["Properties"]["GenerateSecretString"]
    # username and dbname from the template, password generated, host/port/engine from the attachment
    assert json.loads(secret["SecretStringTemplate"]) == {"username": "squelch_owner", "dbname": "squelch"}
    assert secret["GenerateStringKey"] == "password"
    attachment = stack.resources["DatabaseSecretAttachment"]["Properties"]
    assert attachment == {
        "SecretId": ref("DatabaseOwnerSecret"),
        "TargetId": ref("Database"),
        "TargetType": "AWS::RDS::DBInstance",
    }
    database = stack.resources["Database"]["Properties"]
    assert database["DBName"] == "squelch"
    for key in ("username", "password"):
        field = "MasterUsername" if key == "username" else "MasterUserPassword"
        assert text(database[field]) == f"{{{{resolve:secretsmanager:${{DatabaseOwnerSecret}}:SecretString:{key}}}}}"
    # The migrate function logs in as the owner; no other function may read that secret
    assert stack.environment("DatabaseMigrateFunction")["DB_SECRET_ARN"] == ref("DatabaseOwnerSecret")
    for name in functions(stack):
        reads = stack.granted(name, "secretsmanager:GetSecretValue")
        assert (ref("DatabaseOwnerSecret") in reads) == (name == "DatabaseMigrateFunction"), name


def test_migrations_wait_until_the_database_and_the_way_to_it_exist() -> None:
    stack = deploy()
    migrations = stack.resources["DatabaseMigrations"]["Properties"]
    assert migrations["Database"] == ref("DatabaseReady")
    ready = stack.resources["DatabaseReady"]
    assert set(ready["DependsOn"]) == {
        "DatabaseSecretAttachment",
        "PrivateSubnetARoutes",
        "PrivateSubnetBRoutes",
        "S3Endpoint",
        "SecretsManagerEndpoint",
        "FunctionsToDatabase",
        "DatabaseFromFunctions",
    }
    # The attachment (host, port) follows the instance, so the secret is complete once it exists
    assert stack.resources["DatabaseSecretAttachment"]["Properties"]["TargetId"] == ref("Database")
    # Room to wait: longer than the functions' connect timeout many times over, within Lambda's limit
    timeout = int(stack.resources["DatabaseMigrateFunction"]["Properties"]["Timeout"])
    assert 120 <= timeout <= 900


@pytest.mark.parametrize("proxy", ["false", "true"])
def test_the_proxy_carries_the_api_functions_and_not_the_migrations(proxy: str) -> None:
    stack = deploy(DatabaseProxy=proxy)
    assert ("RdsProxy" in stack.resources) == (proxy == "true")
    for name in functions(stack):
        endpoint = stack.environment(name)["DB_PROXY_ENDPOINT"]
        if name == "DatabaseMigrateFunction" or proxy == "false":
            assert endpoint == "", name
        else:
            assert endpoint == {"Fn::GetAtt": ["RdsProxy", "Endpoint"]}, name
    if proxy == "true":
        props = stack.resources["RdsProxy"]["Properties"]
        assert props["RequireTLS"] is True and props["EngineFamily"] == "POSTGRESQL"
        assert [a["SecretArn"] for a in props["Auth"]] == [ref("RuntimeDbSecret")]
        assert props["VpcSubnetIds"] == [ref("PrivateSubnetA"), ref("PrivateSubnetB")]
        targets = stack.resources["RdsProxyTargets"]["Properties"]
        assert targets["DBInstanceIdentifiers"] == [ref("Database")]


def test_outputs_of_a_created_database() -> None:
    outputs = deploy().outputs
    assert {
        "ApiUrl",
        "UserPoolId",
        "UserPoolClientId",
        "AddDemoUser",
        "DatabaseEndpoint",
        "DatabaseSecretArn",
        "RuntimeSecretArn",
    } <= set(outputs)
    assert outputs["DatabaseSecretArn"]["Value"] == ref("DatabaseOwnerSecret")
    assert "Database.Endpoint.Address" in text(outputs["DatabaseEndpoint"]["Value"])
    assert "DatabaseProxyEndpoint" in deploy(DatabaseProxy="true").outputs


def test_an_existing_database_is_used_as_before_and_nothing_is_created() -> None:
    # Given the operator's own database and network
    stack = deploy(**EXISTING, DatabaseProxy="true")
    # Then none of the create mode's resources exist (DatabaseProxy applies to a created database only)
    kinds = {r["Type"] for r in stack.resources.values()}
    assert not kinds & (NETWORK_AND_DATABASE | {"AWS::RDS::DBProxy"})
    assert "DatabaseOwnerSecret" not in stack.resources
    # And the functions use the given subnets, security groups and owner secret
    for name, function in functions(stack).items():
        assert function["Properties"]["VpcConfig"] == {
            "SubnetIds": EXISTING["SubnetIds"].split(","),
            "SecurityGroupIds": EXISTING["SecurityGroupIds"].split(","),
        }, name
    assert stack.environment("DatabaseMigrateFunction")["DB_SECRET_ARN"] == EXISTING["DbSecretArn"]
    assert stack.resources["DatabaseMigrations"]["Properties"]["Database"] == EXISTING["DbSecretArn"]
    assert stack.outputs["DatabaseSecretArn"]["Value"] == EXISTING["DbSecretArn"]
    assert "DatabaseEndpoint" not in stack.outputs


def test_an_existing_database_behind_its_own_proxy() -> None:
    stack = deploy(**EXISTING, RdsProxyEndpoint="proxy.example.internal")
    for name in functions(stack):
        assert stack.environment(name)["DB_PROXY_ENDPOINT"] == "proxy.example.internal", name


def test_existing_mode_refuses_to_deploy_without_its_coordinates() -> None:
    """The template's Rules, which CloudFormation checks before it creates anything."""
    from stack import source

    rule = source()["Rules"]["ExistingDatabaseNeedsItsCoordinates"]
    assert rule["RuleCondition"] == {"Fn::Equals": [ref("DatabaseMode"), "existing"]}
    asserted = json.dumps(rule["Assertions"])
    for parameter in ("DbSecretArn", "SubnetIds", "SecurityGroupIds"):
        assert json.dumps(ref(parameter)) in asserted


GIB = 1024**3


@pytest.mark.parametrize(
    "case",
    [{}, {"DatabaseStorageGiB": "50", "DatabaseMaxStorageGiB": "400", "AlarmEmail": "ops@example.com"}],
    ids=["defaults", "given"],
)
def test_storage_grows_by_itself_to_a_ceiling_and_an_alarm_says_when_free_space_runs_low(case: dict[str, str]) -> None:
    # Given a created database
    stack = deploy(**case)
    database = stack.resources["Database"]["Properties"]
    # Then RDS storage autoscaling may grow its volume up to the ceiling, which is above the volume it starts
    # with by more than the 10% RDS asks of a ceiling
    allocated, ceiling = int(database["AllocatedStorage"]), int(database["MaxAllocatedStorage"])
    assert ceiling == int(stack.parameters["DatabaseMaxStorageGiB"]) and ceiling >= allocated * 1.1
    # And an alarm tells the alarm topic when free space runs low: before autoscaling could fall behind a
    # flood (it grows a volume at most once every six hours), and once the ceiling is reached
    [alarm] = [
        a["Properties"]
        for a in stack.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "FreeStorageSpace"
    ]
    assert (alarm["Namespace"], alarm["Statistic"], alarm["ComparisonOperator"]) == (
        "AWS/RDS",
        "Minimum",
        "LessThanThreshold",
    )
    assert alarm["Dimensions"] == [{"Name": "DBInstanceIdentifier", "Value": ref("Database")}]
    assert 1 * GIB <= float(alarm["Threshold"]) <= 0.25 * allocated * GIB
    assert alarm["TreatMissingData"] == "notBreaching", "no data while the instance is created is no alarm"
    assert alarm.get("AlarmActions") == ([ref("AlarmTopic")] if case.get("AlarmEmail") else None)


def test_an_existing_database_gets_no_storage_settings_or_alarm() -> None:
    stack = deploy(**EXISTING)
    alarms = stack.of_type("AWS::CloudWatch::Alarm").values()
    assert not [a for a in alarms if a["Properties"]["MetricName"] == "FreeStorageSpace"]

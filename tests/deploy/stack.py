"""What CloudFormation makes of template.yaml for given parameter values, computed offline with
AWS's own code, in the order CloudFormation runs it:

1. `AWS::LanguageExtensions`: SAM CLI's port of the transform (Fn::FindInMap, Fn::If and friends
   resolved against the parameters);
2. `sam package`'s part: local code folders become S3 locations;
3. `AWS::Serverless-2016-10-31`: samtranslator, the transform CloudFormation itself runs;
4. conditions evaluated, again with the LanguageExtensions resolver, so the result holds only the
   resources CloudFormation would create.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from samcli.lib.cfn_language_extensions import (
    PseudoParameterValues,
    ResolutionMode,
    TemplateProcessingContext,
    create_default_pipeline,
)
from samcli.lib.cfn_language_extensions.sam_integration import expand_language_extensions
from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGION, ACCOUNT = "eu-west-1", "123456789012"
# What an operator gives with DatabaseMode=existing: their database's owner secret and network.
EXISTING = {
    "DatabaseMode": "existing",
    "DbSecretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:squelch-owner-AbCdEf",
    "SubnetIds": "subnet-0a1b2c3d,subnet-4e5f6a7b",
    "SecurityGroupIds": "sg-0123456789abcdef0",
}
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::StackName": "squelch-act1",
    "AWS::URLSuffix": "amazonaws.com",
}


@cache
def source() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text())


def choice_parameters() -> dict[str, list[str]]:
    """Every parameter with AllowedValues, and those values as strings."""
    return {
        name: [str(v) for v in p["AllowedValues"]]
        for name, p in source()["Parameters"].items()
        if "AllowedValues" in p and p.get("Type", "String") == "String"
    }


def defaults(template: dict[str, Any] | None = None) -> dict[str, str]:
    """Every parameter has a default: `sam deploy --guided` on an empty account needs no answer."""
    return {name: str(p["Default"]) for name, p in (template or source())["Parameters"].items()}


class _NoManagedPolicies:
    """samtranslator asks IAM for managed policies named in Policies; the template names none."""

    def load(self) -> dict[str, str]:
        return {}


@dataclass(frozen=True)
class Stack:
    """The resources CloudFormation would create, keyed by logical id."""

    parameters: dict[str, str]
    resources: dict[str, dict[str, Any]]
    outputs: dict[str, Any]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == kind}

    def sam_functions(self) -> dict[str, dict[str, Any]]:
        """The functions SAM makes from the template's AWS::Serverless::Function (Globals reach them).
        The one other, ConsoleClientSettingsFunction, is plain CloudFormation: an inline custom
        resource outside the VPC that only updates the console's Cognito client."""
        made_by_sam = {"Key": "lambda:createdBy", "Value": "SAM"}
        functions = self.of_type("AWS::Lambda::Function")
        found = {name: f for name, f in functions.items() if made_by_sam in f["Properties"].get("Tags", [])}
        assert set(functions) - set(found) <= {"ConsoleClientSettingsFunction"}, set(functions) - set(found)
        return found

    def route_authorizers(self) -> dict[str, str | None]:
        """ "METHOD /path" -> the authorizer API Gateway runs for it (None: open). SAM writes an
        open route of an API with a DefaultAuthorizer as the security requirement NONE."""
        [api] = self.of_type("AWS::ApiGatewayV2::Api").values()
        found = {}
        for path, item in api["Properties"]["Body"]["paths"].items():
            for method, operation in item.items():
                security = operation.get("security", [])
                names = [name for requirement in security for name in requirement]
                found[f"{method.upper()} {path}"] = names[0] if names and names[0] != "NONE" else None
        return found

    def route_targets(self) -> dict[str, str]:
        """ "METHOD /path" -> what its integration invokes: a function's logical id (its Arn) or an
        alias's (SnapStart=on: CustomerGetFunctionAliaslive, whose Ref is the alias's ARN)."""
        [api] = self.of_type("AWS::ApiGatewayV2::Api").values()
        found = {}
        for path, item in api["Properties"]["Body"]["paths"].items():
            for method, operation in item.items():
                # ...functions/${CustomerGetFunction.Arn}/invocations, left for CloudFormation to resolve
                uri = json.dumps(operation["x-amazon-apigateway-integration"]["uri"])
                target = uri.split("functions/${")[1].split("}/invocations")[0]
                found[f"{method.upper()} {path}"] = target.removesuffix(".Arn")
        return found

    def function_of_route(self) -> dict[str, str]:
        """ "METHOD /path" -> the logical id of the function behind it (through its alias or not)."""
        return {route: target.split("Alias")[0] for route, target in self.route_targets().items()}

    def statements(self, function: str) -> list[dict[str, Any]]:
        """Every IAM statement of the function's execution role: its inline policies and the
        stack's own managed policies attached to it (AWS's managed policies are left out)."""
        role = self.resources[f"{function}Role"]["Properties"]
        documents = [policy["PolicyDocument"] for policy in role.get("Policies", [])]
        documents += [
            self.resources[arn["Ref"]]["Properties"]["PolicyDocument"]
            for arn in role.get("ManagedPolicyArns", [])
            if isinstance(arn, dict) and "Ref" in arn
        ]
        return [statement for document in documents for statement in document["Statement"]]

    def granted(self, function: str, action: str) -> list[Any]:
        """The resources on which the function's role is allowed action (without conditions)."""
        found = []
        for statement in self.statements(function):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if statement["Effect"] == "Allow" and action in actions and "Condition" not in statement:
                resources = statement["Resource"]
                found += resources if isinstance(resources, list) else [resources]
        return found

    def environment(self, function: str) -> dict[str, Any]:
        return self.resources[function]["Properties"].get("Environment", {}).get("Variables", {})

    def dependencies(self) -> dict[str, set[str]]:
        """Resource -> the resources CloudFormation must create before it: those it names with Ref,
        Fn::GetAtt or ${...} (in Fn::Sub, which the resolution above leaves as text), and DependsOn."""
        names = set(self.resources)

        def named(value: Any) -> set[str]:
            if isinstance(value, dict):
                found = set().union(*(named(v) for v in value.values())) if value else set()
                if isinstance(value.get("Ref"), str):
                    found.add(value["Ref"])
                if "Fn::GetAtt" in value:
                    target = value["Fn::GetAtt"]
                    found.add(target[0] if isinstance(target, list) else str(target).split(".")[0])
                return found
            if isinstance(value, list):
                return set().union(*(named(v) for v in value)) if value else set()
            if isinstance(value, str):
                return {m.split(".")[0] for m in re.findall(r"\$\{([A-Za-z0-9.]+)\}", value)}
            return set()

        graph = {}
        for name, resource in self.resources.items():
            after = resource.get("DependsOn", [])
            graph[name] = (
                named(resource.get("Properties", {})) | set([after] if isinstance(after, str) else after)
            ) & names
        return graph

    def cycle(self) -> list[str] | None:
        """A dependency cycle (CloudFormation refuses the stack), as the resources along it; None when
        there is none. cfn-lint does not see one that runs through the HttpApi's generated definition."""
        graph, state, path = self.dependencies(), dict.fromkeys(self.resources, "new"), []

        def visit(name: str) -> list[str] | None:
            state[name] = "open"
            path.append(name)
            for needed in sorted(graph[name]):
                if state[needed] == "open":
                    return [*path[path.index(needed) :], needed]
                if state[needed] == "new" and (found := visit(needed)):
                    return found
            state[name] = "done"
            path.pop()
            return None

        return next((found for name in sorted(graph) if state[name] == "new" and (found := visit(name))), None)

    def security_group_rules(self) -> list[SecurityGroupRule]:
        """Every rule of every security group of the stack: inline ones and rule resources."""
        rules = []
        for name, group in self.of_type("AWS::EC2::SecurityGroup").items():
            for direction, key in (("ingress", "SecurityGroupIngress"), ("egress", "SecurityGroupEgress")):
                rules += [
                    SecurityGroupRule(direction, {"Ref": name}, rule) for rule in group["Properties"].get(key, [])
                ]
        for direction in ("ingress", "egress"):
            kind = f"AWS::EC2::SecurityGroup{direction.capitalize()}"
            rules += [
                SecurityGroupRule(direction, r["Properties"]["GroupId"], r["Properties"])
                for r in self.of_type(kind).values()
            ]
        return rules


@dataclass(frozen=True)
class SecurityGroupRule:
    direction: str  # ingress or egress
    group: Any  # {"Ref": logical id} of the group the rule belongs to
    rule: dict[str, Any]

    @property
    def peer(self) -> Any:
        """Where the traffic comes from (ingress) or goes to (egress): a CIDR or {"Ref": group}."""
        for key in ("CidrIp", "CidrIpv6", "SourceSecurityGroupId", "DestinationSecurityGroupId", "SourcePrefixListId"):
            if key in self.rule:
                return self.rule[key]
        raise AssertionError(f"a rule without a peer: {self.rule}")

    def covers(self, port: int) -> bool:
        if str(self.rule["IpProtocol"]) == "-1":
            return True
        return self.rule["IpProtocol"] == "tcp" and int(self.rule["FromPort"]) <= port <= int(self.rule["ToPort"])


def _as_packaged(template: dict[str, Any]) -> None:
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://squelch-artifacts/{properties[key].strip('/').replace('/', '-')}.zip"


def _resolve(template: dict[str, Any], parameters: dict[str, str]) -> tuple[dict[str, Any], dict[str, bool]]:
    pseudo = PseudoParameterValues(
        region=REGION,
        account_id=ACCOUNT,
        partition="aws",
        stack_name=PSEUDO["AWS::StackName"],
        url_suffix="amazonaws.com",
    )
    context = TemplateProcessingContext(
        fragment=copy.deepcopy(template),
        parameter_values=dict(parameters),
        pseudo_parameters=pseudo,
        resolution_mode=ResolutionMode.PARTIAL,
    )
    return create_default_pipeline(context).process_template(context), context.resolved_conditions


def expanded(template: dict[str, Any] | None = None, **overrides: str) -> dict[str, Any]:
    """The template as AWS::LanguageExtensions hands it to SAM: Fn::ForEach unrolled, mappings and
    parameters resolved (what checkov scans: it cannot read Fn::ForEach)."""
    parameters = {**defaults(template), **overrides}
    original = source() if template is None else template
    return expand_language_extensions(original, {**parameters, **PSEUDO}, enabled=True).expanded_template


def deploy(template: dict[str, Any] | None = None, **overrides: str) -> Stack:
    """The stack as CloudFormation would create it with these parameter values (defaults otherwise),
    from template.yaml or the given variant of it.
    Raises samtranslator's InvalidDocumentException where CloudFormation would refuse the template."""
    parameters = {**defaults(template), **overrides}
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)  # samtranslator reads the region from boto3
    os.environ.setdefault("SAM_CLI_TELEMETRY", "0")
    unrolled = expanded(template, **overrides)
    unrolled["Transform"] = "AWS::Serverless-2016-10-31"
    _as_packaged(unrolled)
    translated = transform(unrolled, parameters, _NoManagedPolicies())
    resolved, conditions = _resolve(translated, parameters)
    created = {name: r for name, r in resolved["Resources"].items() if conditions.get(r.get("Condition", ""), True)}
    outputs = {
        name: o for name, o in resolved.get("Outputs", {}).items() if conditions.get(o.get("Condition", ""), True)
    }
    return Stack(parameters, created, outputs)


EXTENSION_LAYER = "AWS-Parameters-and-Secrets-Lambda-Extension-Arm64"
# Every optional resource and setting on, for the scans that must see them.
EVERYTHING = {
    "AiProvider": "bedrock",
    "BedrockModelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "AlarmEmail": "ops@example.com",
    "SnapStart": "on",
    "SecretsExtensionLayerArn": f"arn:aws:lambda:{REGION}:015030872274:layer:{EXTENSION_LAYER}:12",
    "ReservedConcurrency": "2",
    "DeploymentStrategy": "Canary10Percent5Minutes",
    "WarmSchedule": "cron(*/5 8-18 ? * MON-FRI *)",
    "WarmScheduleTimeZone": "Europe/Paris",
}
SCANS = {
    "create": {},
    "create-everything": {**EVERYTHING, "DatabaseProxy": "true"},
    "existing": EXISTING,
    "existing-everything": {**EXISTING, **EVERYTHING, "RdsProxyEndpoint": "proxy.example.internal"},
}

if __name__ == "__main__":
    # `python tests/deploy/stack.py <scan>`: the expanded template of one of SCANS, as JSON.
    print(json.dumps(expanded(**SCANS[sys.argv[1]]), indent=1))

"""Reads template.yaml: the functions, their handlers and their HttpApi routes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """Loads !Ref, !Sub, !GetAtt and the other short-form intrinsics as plain values."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"unexpected YAML node {node!r}", node.start_mark)
    return {f"Fn::{tag_suffix}" if tag_suffix != "Ref" else "Ref": value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    pattern: re.Pattern[str] = field(compare=False)
    authorizer: str | None = None

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    module: str
    handler: str
    routes: tuple[Route, ...]
    environment: dict[str, Any]


def _resolve(value: Any, doc: dict[str, Any]) -> Any:
    """Ref to a parameter (its default), Fn::Sub of parameters and Fn::FindInMap: the intrinsics a
    route's settings use, resolved as AWS::LanguageExtensions resolves them with the defaults."""
    if isinstance(value, dict) and "Ref" in value:
        return str(doc["Parameters"][value["Ref"]]["Default"])
    if isinstance(value, dict) and "Fn::Sub" in value:
        return re.sub(r"\$\{(\w+)\}", lambda m: _resolve({"Ref": m.group(1)}, doc), value["Fn::Sub"])
    if isinstance(value, dict) and "Fn::FindInMap" in value:
        name, top, second = (_resolve(part, doc) for part in value["Fn::FindInMap"])
        return doc["Mappings"][name][top][second]
    return value


def _route(properties: dict[str, Any], doc: dict[str, Any]) -> Route:
    path = properties["Path"]
    pattern = re.sub(r"\\\{(\w+)\\\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(path))
    authorizer = _resolve((properties.get("Auth") or {}).get("Authorizer"), doc)
    return Route(properties["Method"].upper(), path, re.compile(pattern), None if authorizer == "NONE" else authorizer)


@cache
def _document(template: Path) -> dict[str, Any]:
    return yaml.load(template.read_text(), Loader=_CloudFormationLoader)  # noqa: S506 - SafeLoader subclass


@cache
def load(template: Path = TEMPLATE) -> dict[str, Function]:
    doc = _document(template)
    shared = doc.get("Globals", {}).get("Function", {})
    functions = {}
    for logical_id, resource in doc["Resources"].items():
        # An Fn::ForEach::<name> entry (the log groups and alarms) is a list, not a resource
        if not isinstance(resource, dict) or resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        module, handler = props.get("Handler", shared.get("Handler", "")).rsplit(".", 1)
        routes = tuple(
            _route(event["Properties"], doc) for event in props.get("Events", {}).values() if event["Type"] == "HttpApi"
        )
        env = props.get("Environment", {}).get("Variables", {})
        functions[logical_id] = Function(logical_id, ROOT / props["CodeUri"], module, handler, routes, env)
    return functions


def routes() -> list[tuple[Route, Function]]:
    return [(route, function) for function in load().values() for route in function.routes]


@dataclass(frozen=True)
class CorsConfiguration:
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    expose: tuple[str, ...]
    max_age: int


@cache
def cors_configuration(template: Path = TEMPLATE) -> CorsConfiguration:
    """The HttpApi's CorsConfiguration, its origins from the CorsAllowOrigins parameter's default."""
    doc = _document(template)
    api = next(r for r in doc["Resources"].values() if r["Type"] == "AWS::Serverless::HttpApi")
    cors = api["Properties"]["CorsConfiguration"]
    origins = tuple(_resolve(cors["AllowOrigins"], doc).split(","))
    return CorsConfiguration(
        origins,
        tuple(cors["AllowMethods"]),
        tuple(cors["AllowHeaders"]),
        tuple(cors.get("ExposeHeaders", ())),
        int(cors["MaxAge"]),
    )

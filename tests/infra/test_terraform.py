"""The infrastructure tests (infra/scripts/test.sh) as part of the one `make test`.

The script runs Terraform fmt, init + validate, `terraform test` with a mocked AWS provider, the
bad-input checks and checkov, all offline; it prints one machine-readable ``INFRA_TEST_RESULT``
line. It runs once per session (a few minutes of Terraform planning), and each test here checks
one promise of the issue against that line, so a failure names the promise that broke.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "infra" / "scripts" / "test.sh"
TERRAFORM = REPO_ROOT / "infra" / "terraform"
# The one root configuration (planned once per envs/<env>.tfvars) and the modules it composes.
COMPOSITION = TERRAFORM / "live"
RESULT_PREFIX = "INFRA_TEST_RESULT "

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("terraform") is None,
        reason="terraform is not installed: see infra/terraform/README.md",
    ),
]


@dataclass(frozen=True)
class InfraRun:
    returncode: int
    output: str
    result: dict[str, str]


def parse_result(output: str) -> dict[str, str]:
    """The ``key=value`` fields of the script's last INFRA_TEST_RESULT line.

    Raises ValueError naming the script when the line is missing, because then the script
    stopped before its summary and its own output is the only useful diagnosis.
    """
    lines = [line for line in output.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise ValueError(f"{SCRIPT} printed no {RESULT_PREFIX.strip()} line; its output:\n{output}")
    fields = lines[-1][len(RESULT_PREFIX) :].split()
    return dict(field.split("=", 1) for field in fields)


@pytest.fixture(scope="module")
def infra_run() -> InfraRun:
    completed = subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    output = completed.stdout + completed.stderr
    return InfraRun(completed.returncode, output, parse_result(output))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "noise\nINFRA_TEST_RESULT fmt=ok checkov_failed=0 seconds=12\n",
            {"fmt": "ok", "checkov_failed": "0", "seconds": "12"},
        ),
        (
            "INFRA_TEST_RESULT fmt=failed\nINFRA_TEST_RESULT fmt=ok\n",
            {"fmt": "ok"},
        ),
    ],
)
def test_parse_result_reads_the_last_summary(line: str, expected: dict[str, str]) -> None:
    assert parse_result(line) == expected


def test_parse_result_without_summary_names_the_script() -> None:
    with pytest.raises(ValueError, match=r"test\.sh printed no INFRA_TEST_RESULT"):
        parse_result("Error: something broke\n")


def test_script_succeeds(infra_run: InfraRun) -> None:
    assert infra_run.returncode == 0, infra_run.output[-6000:]


def test_formatting_and_every_configuration_valid(infra_run: InfraRun) -> None:
    result = infra_run.result
    configurations = 1 + len(list((TERRAFORM / "modules").glob("*/main.tf")))
    assert (COMPOSITION / "main.tf").is_file()
    assert result["fmt"] == "ok"
    assert int(result["configs"]) == configurations
    assert int(result["valid"]) == configurations


def test_terraform_tests_ran_and_passed(infra_run: InfraRun) -> None:
    result = infra_run.result
    test_files = [
        *COMPOSITION.glob("tests/*.tftest.hcl"),
        *TERRAFORM.glob("modules/*/tests/*.tftest.hcl"),
    ]
    # Each environment's values are planned and asserted by the composition's test of that name.
    environments = {path.name.removesuffix(".tfvars") for path in TERRAFORM.glob("envs/*.tfvars")}
    environment_tests = {
        path.name.removesuffix(".tftest.hcl") for path in COMPOSITION.glob("tests/*.tftest.hcl")
    }
    assert environments == environment_tests == {"dev", "prod"}
    declared_assertions = sum(
        1
        for path in test_files
        for line in path.read_text().splitlines()
        if line.strip().startswith("assert {")
    )
    assert int(result["tf_runs_failed"]) == 0
    assert int(result["tf_runs_passed"]) >= len(test_files) * 2
    assert int(result["tf_assertions"]) == declared_assertions
    assert declared_assertions >= 100


def test_bad_input_is_rejected_with_clear_messages(infra_run: InfraRun) -> None:
    assert infra_run.result["bad_input"] == "ok"
    assert int(infra_run.result["tf_expected_failures"]) >= 10
    assert 'The root module input variable "landing_retention_days" is not set' in infra_run.output
    assert "bucket_prefix must be 3-46 characters of lower-case letters" in infra_run.output


def test_checkov_finds_no_failed_check(infra_run: InfraRun) -> None:
    result = infra_run.result
    assert int(result["checkov_failed"]) == 0
    assert int(result["checkov_passed"]) > 100

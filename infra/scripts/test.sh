#!/usr/bin/env bash
# Offline tests of infra/terraform, the README's infra test command (`make infra-test`):
#   1. terraform fmt -check -recursive
#   2. terraform init -backend=false for the composition (live/) and every module, terraform
#      validate for the composition (a module is validated by its own terraform test)
#   3. terraform test (mock_provider "aws") for every module, and for the composition once per
#      environment: tests/<env>.tftest.hcl with envs/<env>.tfvars
#   4. bad input: a prod tfvars without a required variable, and one with invalid values, are
#      rejected with the variables' own messages (printed)
#   5. checkov over infra/terraform, with prod's values: 0 failed checks allowed
# It prints the counts, ends with one machine-readable INFRA_TEST_RESULT line, and exits non-zero
# on any failure.
#
# Environment:
#   CREDITLAKE_TF_PLUGIN_MIRROR  provider filesystem mirror (default /opt/tf-plugins); used through
#                                infra/terraform/offline.tfrc only when that folder exists
#   CREDITLAKE_CHECKOV_VENV      virtual environment of checkov (default <repo>/.venv-checkov),
#                                created by setup_checkov.sh when missing or out of date
#   CREDITLAKE_INFRA_JOBS        configurations tested in parallel (default 2)
set -uo pipefail

started=$SECONDS
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tf_root="$repo/infra/terraform"
# The one root configuration of every environment; envs/<env>.tfvars holds each one's values.
composition=live
mirror="${CREDITLAKE_TF_PLUGIN_MIRROR:-/opt/tf-plugins}"
checkov_venv="${CREDITLAKE_CHECKOV_VENV:-$repo/.venv-checkov}"
jobs="${CREDITLAKE_INFRA_JOBS:-2}"
failures=()

if ! command -v terraform >/dev/null 2>&1; then
  echo "terraform is not installed: get Terraform >= 1.9 (https://developer.hashicorp.com/terraform/install)" >&2
  exit 2
fi

# Per-run working data (provider links, module manifests), git-ignored and removed at exit.
mkdir -p "$tf_root/.terraform"
work="$(mktemp -d "$tf_root/.terraform/run.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data" "$work/results"

# Offline provider installation, only where a mirror exists: elsewhere the registry is used.
if [ -d "$mirror" ]; then
  if [ "$mirror" = "/opt/tf-plugins" ]; then
    export TF_CLI_CONFIG_FILE="$tf_root/offline.tfrc"
  else
    sed "s#\"/opt/tf-plugins\"#\"$mirror\"#" "$tf_root/offline.tfrc" >"$work/offline.tfrc"
    export TF_CLI_CONFIG_FILE="$work/offline.tfrc"
  fi
  echo "providers: filesystem mirror $mirror ($TF_CLI_CONFIG_FILE)"
else
  if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then
    unset TF_CLI_CONFIG_FILE
  fi
  echo "providers: no mirror at $mirror, terraform init uses the registry"
fi
# No prompts, no update checks, no instance-metadata credential lookups: nothing leaves the host.
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1 AWS_EC2_METADATA_DISABLED=true
export work tf_root composition

# 1. Formatting ---------------------------------------------------------------------------------
fmt_status=ok
if ! fmt_out="$(terraform fmt -check -recursive -diff "$tf_root" 2>&1)"; then
  fmt_status=failed
  failures+=("terraform fmt")
  echo "$fmt_out"
fi
echo "terraform fmt -check -recursive: $fmt_status"

# 2 + 3. init, validate and test each configuration -------------------------------------------------
# check_config <path relative to infra/terraform>: writes results/<name>.result and <name>.log.
check_config() {
  local config="$1"
  local name="${config//\//_}"
  local dir="$tf_root/$config"
  local log="$work/results/$name.log"
  local lock_flag=()
  export TF_DATA_DIR="$work/data/$name"
  # The composition commits its lock file: the run must match it, never rewrite it.
  [[ "$config" == "$composition" && -f "$dir/.terraform.lock.hcl" ]] && lock_flag=(-lockfile=readonly)

  local init=failed validate=failed passed=0 failed=0 asserts=0 expects=0 test_status=none
  local started_at=$SECONDS
  if terraform -chdir="$dir" init -backend=false -input=false -no-color "${lock_flag[@]}" >"$log" 2>&1; then
    init=ok
    if [[ "$config" == "$composition" ]] || ! compgen -G "$dir/tests/*.tftest.hcl" >/dev/null; then
      terraform -chdir="$dir" validate -no-color >>"$log" 2>&1 && validate=ok
    else
      # A module is validated by its own `terraform test` below, which validates the
      # configuration before any run; a separate validate would only load the schema twice.
      validate=by-test
    fi
  fi
  if [ "$init" = ok ] && compgen -G "$dir/tests/*.tftest.hcl" >/dev/null; then
    # A module's tests run as one `terraform test`. The composition's run once per environment:
    # tests/<env>.tftest.hcl with envs/<env>.tfvars, and every environment must have both.
    local suites=(all) suite env
    if [[ "$config" == "$composition" ]]; then
      suites=()
      for suite in "$dir"/tests/*.tftest.hcl; do
        suites+=("$(basename "$suite" .tftest.hcl)")
      done
      for env in "$tf_root"/envs/*.tfvars; do
        env="$(basename "$env" .tfvars)"
        if [ ! -f "$dir/tests/$env.tftest.hcl" ]; then
          echo "envs/$env.tfvars has no tests/$env.tftest.hcl" >>"$log"
          failed=$((failed + 1))
        fi
      done
    fi
    test_status=ok
    [ "$failed" -eq 0 ] || test_status=failed
    for suite in "${suites[@]}"; do
      local files=("$dir"/tests/*.tftest.hcl) args=()
      if [ "$suite" != all ]; then
        files=("$dir/tests/$suite.tftest.hcl")
        args=(-filter="tests/$suite.tftest.hcl" -var-file="$tf_root/envs/$suite.tfvars")
        if [ ! -f "$tf_root/envs/$suite.tfvars" ]; then
          echo "tests/$suite.tftest.hcl has no envs/$suite.tfvars" >>"$log"
          test_status=failed
          failed=$((failed + 1))
          continue
        fi
      fi
      local out status summary suite_passed suite_failed
      out="$(terraform -chdir="$dir" test -no-color "${args[@]}" 2>&1)"
      status=$?
      echo "$out" >>"$log"
      summary="$(echo "$out" | grep -E '^(Success|Failure)! ' | tail -1)"
      suite_passed="$(echo "$summary" | sed -nE 's/.* ([0-9]+) passed.*/\1/p')"
      suite_failed="$(echo "$summary" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')"
      suite_passed="${suite_passed:-0}"
      suite_failed="${suite_failed:-0}"
      if [ "$status" -eq 0 ] && [ "$suite_failed" -eq 0 ] && [ "$suite_passed" -gt 0 ]; then
        # Every run passed, so every assertion in these files held.
        asserts=$((asserts + $(cat "${files[@]}" | grep -cE '^\s*assert\s*\{')))
        expects=$((expects + $(cat "${files[@]}" | grep -cE '^\s*expect_failures\s*=')))
      else
        test_status=failed
        [ "$suite_failed" -eq 0 ] && suite_failed=1
      fi
      passed=$((passed + suite_passed))
      failed=$((failed + suite_failed))
    done
  fi
  echo "$config init=$init validate=$validate test=$test_status passed=$passed failed=$failed asserts=$asserts expects=$expects seconds=$((SECONDS - started_at))" \
    >"$work/results/$name.result"
}
export -f check_config

# Slowest first (the composition plans every module, once per environment) so two workers finish
# together.
configs=("$composition")
for module_dir in "$tf_root"/modules/*/; do
  configs+=("modules/$(basename "$module_dir")")
done
printf '%s\n' "${configs[@]}" | xargs -P "$jobs" -I{} bash -c 'check_config "$1"' _ {}

# value <key>: a field of the current configuration's result line.
value() { echo "$result" | sed -nE "s/.* $1=([^ ]+).*/\1/p"; }

tf_passed=0 tf_failed=0 tf_asserts=0 tf_expects=0 valid=0
for config in "${configs[@]}"; do
  name="${config//\//_}"
  result_file="$work/results/$name.result"
  if [ ! -f "$result_file" ]; then
    failures+=("$config: no result")
    continue
  fi
  result="$(cat "$result_file")"
  echo "  $result"
  if [ "$(value init)" = ok ] && [ "$(value validate)" = ok ]; then
    valid=$((valid + 1))
  elif [ "$(value init)" != ok ] || [ "$(value validate)" != by-test ]; then
    failures+=("$config: init/validate")
    sed 's/^/    /' "$work/results/$name.log"
  fi
  if [ "$(value validate)" = by-test ] && [ "$(value test)" = ok ]; then
    valid=$((valid + 1))
  fi
  if [ "$(value test)" = failed ]; then
    failures+=("$config: terraform test")
    sed 's/^/    /' "$work/results/$name.log" | tail -60
  fi
  tf_passed=$((tf_passed + $(value passed)))
  tf_failed=$((tf_failed + $(value failed)))
  tf_asserts=$((tf_asserts + $(value asserts)))
  tf_expects=$((tf_expects + $(value expects)))
done
echo "init + validate: $valid/${#configs[@]} configurations valid (the composition by terraform validate, modules by terraform test)"
echo "terraform test: $tf_passed runs passed, $tf_failed failed ($tf_asserts assertions and $tf_expects expected validation failures held)"

# 4. Bad input ------------------------------------------------------------------------------------
# Both checks use the composition with envs/prod.tfvars.
prod="$tf_root/$composition"
prod_tfvars="$tf_root/envs/prod.tfvars"
export TF_DATA_DIR="$work/data/$composition"
bad_input=ok

# A prod tfvars without a required variable: rejected before any provider is contacted.
grep -v '^landing_retention_days' "$prod_tfvars" >"$work/missing-variable.tfvars"
missing_out="$(terraform -chdir="$prod" plan -input=false -lock=false -refresh=false -no-color \
  -var-file="$work/missing-variable.tfvars" 2>&1)"
missing_status=$?
if [ "$missing_status" -ne 0 ] && grep -q 'No value for required variable' <<<"$missing_out" &&
  grep -q 'variable "landing_retention_days"' <<<"$missing_out"; then
  echo "bad input: prod.tfvars without landing_retention_days is rejected:"
  grep -A8 'Error: No value for required variable' <<<"$missing_out" | sed 's/^/    /'
else
  bad_input=failed
  failures+=("bad input: missing required variable was not rejected")
  echo "$missing_out" | tail -20 | sed 's/^/    /'
fi

# A prod tfvars with invalid values: tests/bad_input is expected to fail, with these messages.
invalid_variables=(landing_retention_days bucket_prefix aws_account_id mlflow_image airflow_version vpc_cidr)
invalid_out="$(terraform -chdir="$prod" test -no-color -test-directory=tests/bad_input -var-file="$prod_tfvars" 2>&1)"
invalid_status=$?
invalid_ok=yes
[ "$invalid_status" -ne 0 ] || invalid_ok=no
for variable in "${invalid_variables[@]}"; do
  grep -qE "│ var\.$variable is " <<<"$invalid_out" || invalid_ok=no
done
[ "$(grep -c '^Error: Invalid value for variable' <<<"$invalid_out")" -eq "${#invalid_variables[@]}" ] || invalid_ok=no
[ "$(grep -c '^Error: ' <<<"$invalid_out")" -eq "${#invalid_variables[@]}" ] || invalid_ok=no
if [ "$invalid_ok" = yes ]; then
  echo "bad input: prod.tfvars with ${#invalid_variables[@]} invalid values is rejected, one message each:"
  awk '/^Error: Invalid value for variable/{show=1} /^This was checked by/{print "    " $0; print ""; show=0} show{print "    " $0}' <<<"$invalid_out"
else
  bad_input=failed
  failures+=("bad input: invalid values were not all rejected with their messages")
  echo "$invalid_out" | tail -40 | sed 's/^/    /'
fi

# 5. checkov ------------------------------------------------------------------------------------------
checkov_passed=0 checkov_failed=0 checkov_skipped=0 checkov_parse_errors=0 checkov_resources=0
if "$here/setup_checkov.sh" "$checkov_venv"; then
  # Fully offline: no platform key, no guideline or policy downloads, no update or SCA checks.
  # The composition's environment is an input with no default: checkov reads prod's values so
  # that names and for_each keys resolve as they deploy (today dev's values give the same results).
  env -u BC_API_KEY CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE \
    "$checkov_venv/bin/checkov" -d "$tf_root" --framework terraform --skip-download --compact \
    --var-file "$tf_root/envs/prod.tfvars" --skip-path '\.terraform' -o json >"$work/checkov.json" 2>"$work/checkov.err"
  "$checkov_venv/bin/python" - "$work/checkov.json" "$work/checkov.details" >"$work/checkov.summary" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
report = report[0] if isinstance(report, list) else report
lines = set()
for check in report["results"]["failed_checks"]:
    lines.add(f"FAILED  {check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}")
for check in report["results"]["skipped_checks"]:
    reason = (check.get("check_result") or {}).get("suppress_comment", "")
    lines.add(f"skipped {check['check_id']} {check['resource']}: {reason}")
open(sys.argv[2], "w").write("".join(f"    {line}\n" for line in sorted(lines)))
summary = report["summary"]
print(summary["passed"], summary["failed"], summary["skipped"], summary["parsing_errors"], summary["resource_count"])
PY
  read -r checkov_passed checkov_failed checkov_skipped checkov_parse_errors checkov_resources <"$work/checkov.summary" || true
  checkov_passed="${checkov_passed:-0}" checkov_failed="${checkov_failed:-1}" checkov_skipped="${checkov_skipped:-0}"
  checkov_parse_errors="${checkov_parse_errors:-0}" checkov_resources="${checkov_resources:-0}"
  cat "$work/checkov.details" 2>/dev/null
  if [ "$checkov_failed" -ne 0 ] || [ "$checkov_parse_errors" -ne 0 ] || [ "$checkov_passed" -eq 0 ]; then
    failures+=("checkov")
    tail -20 "$work/checkov.err" | sed 's/^/    /'
  fi
else
  failures+=("checkov: could not create $checkov_venv")
fi
echo "checkov: passed $checkov_passed, failed $checkov_failed, skipped $checkov_skipped (parsing errors $checkov_parse_errors, $checkov_resources resources)"

# Summary -------------------------------------------------------------------------------------------
modules="$(find "$tf_root/modules" -name main.tf | wc -l)"
resource_blocks="$(find "$tf_root/modules" "$tf_root/$composition" -name '*.tf' -exec cat {} + | grep -cE '^resource "')"
seconds=$((SECONDS - started))
echo "modules: $modules, resource blocks: $resource_blocks, wall time: ${seconds}s"
echo "INFRA_TEST_RESULT fmt=$fmt_status valid=$valid configs=${#configs[@]} tf_runs_passed=$tf_passed tf_runs_failed=$tf_failed tf_assertions=$tf_asserts tf_expected_failures=$tf_expects bad_input=$bad_input checkov_passed=$checkov_passed checkov_failed=$checkov_failed checkov_skipped=$checkov_skipped modules=$modules resource_blocks=$resource_blocks seconds=$seconds"

if [ "${#failures[@]}" -gt 0 ]; then
  printf 'FAILED: %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "infra tests passed"

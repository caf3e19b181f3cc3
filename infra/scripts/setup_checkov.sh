#!/usr/bin/env bash
# Create (or refresh) the checkov virtual environment from infra/requirements-checkov.txt.
#
# checkov gets its own environment because its dependencies collide with the application's pins
# in requirements.lock. A stamp named after the requirements' hash makes this a no-op until that
# file changes. Usage: setup_checkov.sh [venv folder], default <repo>/.venv-checkov.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${1:-${CREDITLAKE_CHECKOV_VENV:-$repo/.venv-checkov}}"
requirements="$repo/infra/requirements-checkov.txt"
stamp="$venv/.installed-$(sha256sum "$requirements" | cut -c1-12)"

if [ -x "$venv/bin/checkov" ] && [ -f "$stamp" ]; then
  exit 0
fi

python="$(command -v python3.11 || command -v python3 || true)"
if [ -z "$python" ]; then
  echo "checkov needs Python 3 (3.11 recommended): install it, then re-run make infra-setup" >&2
  exit 1
fi

echo "checkov: creating $venv from infra/requirements-checkov.txt"
if command -v uv >/dev/null 2>&1; then
  UV_PYTHON_DOWNLOADS=never uv venv --quiet --allow-existing --python "$python" "$venv"
  uv pip install --quiet --python "$venv/bin/python" -r "$requirements"
else
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet -r "$requirements"
fi
rm -f "$venv"/.installed-*
touch "$stamp"

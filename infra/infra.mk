# Infrastructure targets, included by the root Makefile (`-include infra/infra.mk`).
#   make infra-setup   create .venv-checkov (pinned checkov, kept apart from the app's venv)
#   make infra-test    fmt, init + validate, terraform test, bad-input checks and checkov, offline
.PHONY: infra-setup infra-test

CHECKOV_VENV ?= .venv-checkov

infra-setup:  ## create .venv-checkov for the infrastructure tests
	bash infra/scripts/setup_checkov.sh $(CHECKOV_VENV)

infra-test: infra-setup  ## Terraform fmt/validate/test, bad-input checks and checkov (offline)
	CREDITLAKE_CHECKOV_VENV=$(abspath $(CHECKOV_VENV)) bash infra/scripts/test.sh

# Offline: the AWS provider is mocked, so these runs plan and "apply" without an account.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name_prefix                   = "creditlake-test"
  secrets_key_arn               = "arn:aws:kms:ap-southeast-1:111122223333:key/secrets"
  pii_key_reader_arns           = ["arn:aws:iam::111122223333:role/creditlake-test-airflow"]
  mlflow_credential_reader_arns = ["arn:aws:iam::111122223333:role/creditlake-test-airflow", "arn:aws:iam::111122223333:role/creditlake-test-mlflow-exec"]
}

run "secrets_encrypted_and_empty" {
  command = plan

  assert {
    condition     = toset([for secret in aws_secretsmanager_secret.this : secret.name]) == toset(["creditlake-test/pii-key", "creditlake-test/mlflow-admin"])
    error_message = "Expected the PII key and MLflow admin secrets."
  }

  assert {
    condition     = aws_secretsmanager_secret.this["pii_key"].name == "${output.secrets_prefix}/pii-key"
    error_message = "creditlake reads the PII key as <CREDITLAKE_SECRETS_PREFIX>/pii-key: the names must agree."
  }

  assert {
    condition     = alltrue([for secret in aws_secretsmanager_secret.this : secret.kms_key_id == var.secrets_key_arn])
    error_message = "Every secret must be encrypted with the secrets key."
  }

  assert {
    condition     = alltrue([for secret in aws_secretsmanager_secret.this : secret.recovery_window_in_days == 30])
    error_message = "Deleted secrets must stay recoverable for 30 days."
  }
}

run "only_named_readers" {
  command = apply

  assert {
    condition     = toset(jsondecode(aws_secretsmanager_secret_policy.this["pii_key"].policy).Statement[0].Condition.ArnNotEquals["aws:PrincipalArn"]) == toset(var.pii_key_reader_arns)
    error_message = "The PII key's policy must deny everyone but its readers."
  }

  assert {
    condition     = jsondecode(aws_secretsmanager_secret_policy.this["pii_key"].policy).Statement[0].Effect == "Deny" && jsondecode(aws_secretsmanager_secret_policy.this["pii_key"].policy).Statement[0].Action == ["secretsmanager:GetSecretValue"]
    error_message = "The PII key's policy must be a Deny of GetSecretValue."
  }

  assert {
    condition     = aws_secretsmanager_secret_policy.this["mlflow_admin"].secret_arn == aws_secretsmanager_secret.this["mlflow_admin"].arn
    error_message = "Each policy must be attached to its own secret."
  }
}

run "rejects_bad_input" {
  command = plan

  variables {
    pii_key_reader_arns     = []
    recovery_window_in_days = 0
  }

  # Each listed variable must reject its bad value; any other error fails the run.
  expect_failures = [var.pii_key_reader_arns, var.recovery_window_in_days]
}

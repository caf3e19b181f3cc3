# Offline: the AWS provider is mocked, so these runs plan and "apply" without an account.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name               = "creditlake-test"
  execution_role_arn = "arn:aws:iam::111122223333:role/creditlake-test-airflow"
  source_bucket_arn  = "arn:aws:s3:::acme-test-airflow"
  source_bucket_name = "acme-test-airflow"
  subnet_ids         = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  security_group_ids = ["sg-0000000000000000a"]
  kms_key_arn        = "arn:aws:kms:ap-southeast-1:111122223333:key/lake"
  creditlake_environment = {
    CREDITLAKE_LANDING_URI     = "s3://acme-test-landing"
    CREDITLAKE_CATALOG_TYPE    = "glue"
    CREDITLAKE_SPARK_MASTER    = "sc://primary.internal:15002"
    MLFLOW_TRACKING_URI        = "https://mlflow.test.internal"
    CREDITLAKE_SECRETS_BACKEND = "aws"
    CREDITLAKE_SECRETS_PREFIX  = "creditlake-test"
  }
  mlflow_admin_secret_arn = "arn:aws:secretsmanager:ap-southeast-1:111122223333:secret:creditlake-test/mlflow-admin-GhIjKl"
}

run "startup_script_exports_settings_not_secrets" {
  command = plan

  assert {
    condition     = strcontains(aws_s3_object.startup_script.content, "export CREDITLAKE_LANDING_URI='s3://acme-test-landing'") && strcontains(aws_s3_object.startup_script.content, "export MLFLOW_TRACKING_URI='https://mlflow.test.internal'")
    error_message = "The startup script must export every creditlake setting."
  }

  assert {
    condition     = strcontains(aws_s3_object.startup_script.content, "export CREDITLAKE_SECRETS_BACKEND='aws'") && strcontains(aws_s3_object.startup_script.content, "export CREDITLAKE_SECRETS_PREFIX='creditlake-test'")
    error_message = "creditlake must read the PII key from Secrets Manager, under the deployment's prefix."
  }

  assert {
    condition     = !strcontains(aws_s3_object.startup_script.content, "CREDITLAKE_PII_KEY")
    error_message = "The PII key must never be exported by the startup script, as a value or read from Secrets Manager."
  }

  assert {
    condition     = aws_s3_object.startup_script.server_side_encryption == "aws:kms" && aws_s3_object.startup_script.kms_key_id == var.kms_key_arn
    error_message = "The startup script must be stored with SSE-KMS."
  }
}

run "private_airflow_3_with_all_logs" {
  command = apply

  assert {
    condition     = startswith(aws_mwaa_environment.this.airflow_version, "3.")
    error_message = "MWAA must run Airflow 3, got ${aws_mwaa_environment.this.airflow_version}."
  }

  assert {
    condition     = aws_mwaa_environment.this.webserver_access_mode == "PRIVATE_ONLY"
    error_message = "The Airflow UI must be reachable only from inside the VPC."
  }

  assert {
    condition     = aws_mwaa_environment.this.kms_key == var.kms_key_arn
    error_message = "MWAA must use the customer-managed key."
  }

  assert {
    condition = alltrue([
      for logs in [
        aws_mwaa_environment.this.logging_configuration[0].dag_processing_logs[0],
        aws_mwaa_environment.this.logging_configuration[0].scheduler_logs[0],
        aws_mwaa_environment.this.logging_configuration[0].task_logs[0],
        aws_mwaa_environment.this.logging_configuration[0].webserver_logs[0],
        aws_mwaa_environment.this.logging_configuration[0].worker_logs[0],
      ] : logs.enabled
    ])
    error_message = "Every MWAA log stream must be enabled."
  }

  assert {
    condition     = aws_mwaa_environment.this.source_bucket_arn == var.source_bucket_arn && aws_mwaa_environment.this.dag_s3_path == "dags/" && aws_mwaa_environment.this.requirements_s3_path == "requirements.txt"
    error_message = "DAGs and requirements must come from the Airflow bucket."
  }

  assert {
    condition     = aws_mwaa_environment.this.startup_script_s3_path == "startup.sh" && aws_mwaa_environment.this.startup_script_s3_object_version == aws_s3_object.startup_script.version_id
    error_message = "MWAA must run the exact version of the generated startup script."
  }
}

run "rejects_bad_input" {
  command = plan

  variables {
    airflow_version        = "2.10.3"
    creditlake_environment = { CREDITLAKE_PII_KEY = "not-a-secret-anymore", CREDITLAKE_SECRETS_BACKEND = "local" }
  }

  # Each listed variable must reject its bad value; any other error fails the run.
  expect_failures = [var.airflow_version, var.creditlake_environment]
}

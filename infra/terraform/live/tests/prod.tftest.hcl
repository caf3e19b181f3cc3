# The composition with prod's values, offline: the AWS provider is mocked. Run from live/ as
#   terraform test -filter=tests/prod.tftest.hcl -var-file=../envs/prod.tfvars
# The first run checks that the outputs are exactly creditlake's settings; the others feed
# prod.tfvars with one bad value each and expect that variable's validation to reject the plan.
# tests/bad_input/ shows the messages a user gets.
mock_provider "aws" {
  source = "../tests/mocks"
}

run "outputs_map_onto_creditlake_settings" {
  command = apply

  assert {
    condition     = output.CREDITLAKE_LANDING_URI == "s3://example-creditlake-prod-landing"
    error_message = "CREDITLAKE_LANDING_URI is ${output.CREDITLAKE_LANDING_URI}."
  }

  assert {
    condition     = output.CREDITLAKE_CATALOG_TYPE == "glue" && output.CREDITLAKE_CATALOG_WAREHOUSE == "s3://example-creditlake-prod-lake" && output.CREDITLAKE_CATALOG_REGION == "ap-southeast-1"
    error_message = "The lake's catalog settings are ${output.CREDITLAKE_CATALOG_TYPE}, ${output.CREDITLAKE_CATALOG_WAREHOUSE}, ${output.CREDITLAKE_CATALOG_REGION}."
  }

  assert {
    condition     = output.MLFLOW_TRACKING_URI == "https://mlflow.creditlake.internal"
    error_message = "MLFLOW_TRACKING_URI is ${output.MLFLOW_TRACKING_URI}."
  }

  assert {
    condition     = output.CREDITLAKE_SPARK_MASTER == "sc://ip-10-40-0-10.ap-southeast-1.compute.internal:15002"
    error_message = "CREDITLAKE_SPARK_MASTER is ${output.CREDITLAKE_SPARK_MASTER}."
  }

  assert {
    condition     = toset(keys(output.creditlake_environment)) == toset(["CREDITLAKE_HOME", "CREDITLAKE_LANDING_URI", "CREDITLAKE_CATALOG_TYPE", "CREDITLAKE_CATALOG_WAREHOUSE", "CREDITLAKE_CATALOG_REGION", "CREDITLAKE_SPARK_MASTER", "MLFLOW_TRACKING_URI", "CREDITLAKE_MLFLOW_ARTIFACT_ROOT", "CREDITLAKE_SECRETS_BACKEND", "CREDITLAKE_SECRETS_PREFIX"])
    error_message = "creditlake_environment must hold exactly the settings the deployment provides."
  }

  assert {
    condition     = output.creditlake_environment.CREDITLAKE_SECRETS_BACKEND == "aws" && "${output.creditlake_environment.CREDITLAKE_SECRETS_PREFIX}/pii-key" == module.secrets.pii_key_secret_name
    error_message = "creditlake must read the PII key from Secrets Manager under the name the secrets module gives it."
  }

  assert {
    condition     = !anytrue([for name, _ in output.creditlake_environment : strcontains(name, "PII_KEY") || strcontains(name, "PASSWORD")])
    error_message = "No secret may travel as a plain setting."
  }

  assert {
    condition     = toset(keys(output.role_arns)) == toset(["airflow", "spark", "mlflow", "governance"])
    error_message = "The outputs must name one role per workload."
  }

  assert {
    condition     = output.glue_databases == { bronze = "bronze", quarantine = "quarantine", lake = "lake", staging = "staging", intermediate = "intermediate", marts = "marts" }
    error_message = "Glue databases must be the lake's Iceberg namespaces and the schemas dbt writes."
  }

  assert {
    condition     = output.bucket_names.landing == "example-creditlake-prod-landing" && output.bucket_names.access_logs == "example-creditlake-prod-access-logs"
    error_message = "Bucket names must follow bucket_prefix."
  }

  assert {
    condition     = module.orchestration.environment_name == "creditlake-prod"
    error_message = "Names must follow var.environment from prod.tfvars (creditlake-prod), not ${module.orchestration.environment_name}."
  }
}

run "rejects_bad_prod_values" {
  command = plan

  variables {
    landing_retention_days = 0
    bucket_prefix          = "Example-CreditLake-Prod"
    aws_account_id         = "1111-2222-3333"
    availability_zones     = ["eu-west-1a", "eu-west-1b"]
  }

  # Each listed variable must reject its bad value; any other error fails the run.
  expect_failures = [var.landing_retention_days, var.bucket_prefix, var.aws_account_id, var.availability_zones]
}

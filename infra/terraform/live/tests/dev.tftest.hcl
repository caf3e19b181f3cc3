# The composition with dev's values, offline: the AWS provider is mocked. Run from live/ as
#   terraform test -filter=tests/dev.tftest.hcl -var-file=../envs/dev.tfvars
# (infra/scripts/test.sh runs each tests/<env>.tftest.hcl with its ../envs/<env>.tfvars).
mock_provider "aws" {
  source = "../tests/mocks"
}

run "outputs_map_onto_creditlake_settings" {
  command = apply

  assert {
    condition     = output.CREDITLAKE_LANDING_URI == "s3://example-creditlake-dev-landing" && output.CREDITLAKE_CATALOG_WAREHOUSE == "s3://example-creditlake-dev-lake"
    error_message = "dev bucket URIs must follow bucket_prefix."
  }

  assert {
    condition     = output.MLFLOW_TRACKING_URI == "https://mlflow.dev.creditlake.internal"
    error_message = "MLFLOW_TRACKING_URI is ${output.MLFLOW_TRACKING_URI}."
  }

  assert {
    condition     = output.creditlake_environment.CREDITLAKE_SPARK_MASTER == output.CREDITLAKE_SPARK_MASTER
    error_message = "The startup environment and the outputs must agree."
  }

  assert {
    condition     = module.orchestration.environment_name == "creditlake-dev"
    error_message = "Names must follow var.environment from dev.tfvars (creditlake-dev), not ${module.orchestration.environment_name}."
  }
}

run "rejects_bad_dev_values" {
  command = plan

  variables {
    landing_retention_days = 0
    environment            = "staging"
  }

  # Each listed variable must reject its bad value; any other error fails the run.
  expect_failures = [var.landing_retention_days, var.environment]
}

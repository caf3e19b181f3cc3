# Offline: the AWS provider is mocked, so these runs plan without an account.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  lake_bucket_name = "acme-test-lake"
  lake_key_arn     = "arn:aws:kms:ap-southeast-1:111122223333:key/lake"
}

run "databases_per_layer_in_an_encrypted_catalog" {
  command = plan

  assert {
    condition     = toset(keys(aws_glue_catalog_database.this)) == toset(["bronze", "quarantine", "lake", "staging", "intermediate", "marts"])
    error_message = "Expected the lake's namespaces (bronze, quarantine, lake) and the staging, intermediate and marts databases (dbt writes exactly these schemas)."
  }

  assert {
    condition     = aws_glue_catalog_database.this["marts"].location_uri == "s3://acme-test-lake/warehouse/marts/" && aws_glue_catalog_database.this["bronze"].location_uri == "s3://acme-test-lake/bronze/"
    error_message = "Database locations must follow the lake layout."
  }

  assert {
    condition     = aws_glue_data_catalog_encryption_settings.this[0].data_catalog_encryption_settings[0].encryption_at_rest[0].catalog_encryption_mode == "SSE-KMS"
    error_message = "The Data Catalog must be encrypted with SSE-KMS."
  }

  assert {
    condition     = aws_glue_data_catalog_encryption_settings.this[0].data_catalog_encryption_settings[0].encryption_at_rest[0].sse_aws_kms_key_id == var.lake_key_arn
    error_message = "The Data Catalog must use the lake key."
  }

  assert {
    condition     = aws_glue_data_catalog_encryption_settings.this[0].data_catalog_encryption_settings[0].connection_password_encryption[0].return_connection_password_encrypted
    error_message = "Connection passwords must be returned encrypted."
  }
}

run "rejects_bad_input" {
  command = plan

  variables {
    databases = { bronze = "bronze/", staging = "warehouse/staging/" }
  }

  # Each listed variable must reject its bad value; any other error fails the run.
  expect_failures = [var.databases]
}

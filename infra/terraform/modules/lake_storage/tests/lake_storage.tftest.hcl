# Offline: the AWS provider is mocked, so these runs plan without an account. The data buckets'
# controls are read from the planned resources through the bucket_controls output.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  bucket_prefix          = "acme-creditlake-test"
  account_id             = "111122223333"
  lake_key_arn           = "arn:aws:kms:ap-southeast-1:111122223333:key/11111111-1111-1111-1111-111111111111"
  logs_key_arn           = "arn:aws:kms:ap-southeast-1:111122223333:key/22222222-2222-2222-2222-222222222222"
  landing_retention_days = 45
}

run "controls_of_every_bucket" {
  command = plan

  assert {
    condition     = output.bucket_names == { landing = "acme-creditlake-test-landing", lake = "acme-creditlake-test-lake", ml = "acme-creditlake-test-ml", airflow = "acme-creditlake-test-airflow", access_logs = "acme-creditlake-test-access-logs" }
    error_message = "Expected the landing, lake, ml, airflow and access-log buckets named after bucket_prefix."
  }

  assert {
    condition     = toset(keys(output.bucket_controls)) == toset(["landing", "lake", "ml", "airflow"])
    error_message = "Every data bucket must be a secure_bucket."
  }

  assert {
    condition     = alltrue([for controls in output.bucket_controls : controls.object_ownership == "BucketOwnerEnforced" && !controls.force_destroy])
    error_message = "Data buckets must enforce bucket-owner ownership (ACLs off) and not be force-destroyable by default."
  }

  assert {
    condition     = aws_s3_bucket_ownership_controls.access_logs.rule[0].object_ownership == "BucketOwnerEnforced" && !aws_s3_bucket.access_logs.force_destroy
    error_message = "The access-log bucket must enforce bucket-owner ownership and not be force-destroyable."
  }

  assert {
    condition     = alltrue([for controls in output.bucket_controls : controls.sse_algorithm == "aws:kms" && controls.kms_key_arn == var.lake_key_arn && controls.bucket_key_enabled])
    error_message = "Data buckets must use SSE-KMS with the lake key."
  }

  assert {
    condition = alltrue(flatten([
      for rule in aws_s3_bucket_server_side_encryption_configuration.access_logs.rule : [
        rule.apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms",
        rule.apply_server_side_encryption_by_default[0].kms_master_key_id == var.logs_key_arn,
      ]
    ]))
    error_message = "The access-log bucket must use SSE-KMS with the logs key."
  }

  assert {
    condition     = alltrue([for controls in output.bucket_controls : controls.versioning == "Enabled"]) && aws_s3_bucket_versioning.access_logs.versioning_configuration[0].status == "Enabled"
    error_message = "Every bucket must be versioned."
  }

  assert {
    condition     = alltrue([for controls in output.bucket_controls : controls.public_access_block == [true, true, true, true]])
    error_message = "Every data bucket must block public ACLs and policies, ignore ACLs and restrict public buckets."
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.access_logs.block_public_acls,
      aws_s3_bucket_public_access_block.access_logs.block_public_policy,
      aws_s3_bucket_public_access_block.access_logs.ignore_public_acls,
      aws_s3_bucket_public_access_block.access_logs.restrict_public_buckets,
    ])
    error_message = "The access-log bucket must block all public access."
  }

  assert {
    condition = alltrue([
      for policy in concat([for controls in output.bucket_controls : controls.policy], [aws_s3_bucket_policy.access_logs.policy]) : anytrue([
        for statement in jsondecode(policy).Statement :
        statement.Effect == "Deny" && statement.Principal == "*" && statement.Action == "s3:*" &&
        try(statement.Condition.Bool["aws:SecureTransport"], "") == "false"
      ])
    ])
    error_message = "Every bucket policy must deny all S3 actions when aws:SecureTransport is false."
  }

  assert {
    condition = alltrue(flatten([
      for policy in concat([for controls in output.bucket_controls : controls.policy], [aws_s3_bucket_policy.access_logs.policy]) : [
        for statement in jsondecode(policy).Statement : statement.Principal != "*" if statement.Effect == "Allow"
      ]
    ]))
    error_message = "No bucket policy may allow the '*' principal."
  }

  assert {
    condition     = jsondecode(output.bucket_controls.lake.policy).Statement[0].Resource == ["arn:aws:s3:::acme-creditlake-test-lake", "arn:aws:s3:::acme-creditlake-test-lake/*"]
    error_message = "The TLS-only statement must cover the bucket and all its objects."
  }

  assert {
    condition     = alltrue([for name, controls in output.bucket_controls : controls.log_prefix == "s3/${name}/"])
    error_message = "Every data bucket must log access under s3/<bucket role>/."
  }

  assert {
    condition     = [for rule in output.bucket_controls.landing.lifecycle_rules : rule.expiration[0].days if rule.id == "expire-raw-files" && rule.filter[0].prefix == ""] == [45]
    error_message = "Every raw landing file must expire after landing_retention_days (45)."
  }

  assert {
    condition = alltrue([
      for rule in output.bucket_controls.lake.lifecycle_rules :
      length(rule.expiration) == 0 && length(rule.noncurrent_version_expiration) == 0
      if rule.filter[0].prefix == "quarantine/"
    ])
    error_message = "Quarantine must never expire (current or old versions): it is the audit trail."
  }

  assert {
    condition     = length([for rule in output.bucket_controls.lake.lifecycle_rules : rule if rule.filter[0].prefix == "quarantine/"]) == 1
    error_message = "The lake needs exactly one quarantine rule."
  }

  assert {
    condition = alltrue([
      for rule in output.bucket_controls.lake.lifecycle_rules :
      length(rule.expiration) == 0 && (rule.filter[0].prefix != "" || length(rule.noncurrent_version_expiration) == 0)
    ])
    error_message = "No current lake object may expire, and no whole-bucket lake rule may expire old versions (it would reach quarantine)."
  }

  assert {
    condition = alltrue(flatten([
      for controls in output.bucket_controls : [
        for rule in controls.lifecycle_rules : rule.abort_incomplete_multipart_upload[0].days_after_initiation == 7
      ]
    ])) && alltrue([for controls in output.bucket_controls : contains([for rule in controls.lifecycle_rules : rule.id], "abort-incomplete-multipart-uploads")])
    error_message = "Every lifecycle rule, and one bucket-wide rule, must clean up incomplete multipart uploads after 7 days."
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.access_logs.rule[0].expiration[0].days == 365
    error_message = "Access logs expire after access_log_retention_days (365 by default)."
  }

  assert {
    condition     = output.landing_uri == "s3://acme-creditlake-test-landing"
    error_message = "landing_uri (CREDITLAKE_LANDING_URI) is ${output.landing_uri}."
  }

  assert {
    condition     = output.lake_uri == "s3a://acme-creditlake-test-lake"
    error_message = "lake_uri is ${output.lake_uri}."
  }
}

# After the plan: an apply leaves mocked values in state that a later plan would start from.
run "access_logged_to_the_log_bucket" {
  command = apply

  assert {
    condition     = alltrue([for controls in output.bucket_controls : controls.log_bucket == aws_s3_bucket.access_logs.id])
    error_message = "Every data bucket must log to the access-log bucket."
  }
}

run "rejects_bad_input" {
  command = plan

  variables {
    landing_retention_days = 0
    bucket_prefix          = "Acme-CreditLake"
  }

  # Each listed variable must reject its bad value; any other error fails the run.
  expect_failures = [var.landing_retention_days, var.bucket_prefix]
}

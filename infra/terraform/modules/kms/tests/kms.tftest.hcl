# Offline: the AWS provider is mocked, so these runs plan and "apply" without an account.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name_prefix = "creditlake-test"
  account_id  = "111122223333"
  region      = "ap-southeast-1"
}

run "keys_rotate_and_policies_have_no_wildcards" {
  command = plan

  assert {
    condition     = toset(keys(aws_kms_key.this)) == toset(["lake", "secrets", "logs"])
    error_message = "Expected exactly the lake, secrets and logs keys."
  }

  assert {
    condition     = alltrue([for key in aws_kms_key.this : key.enable_key_rotation])
    error_message = "Every key must rotate automatically."
  }

  assert {
    condition     = alltrue([for key in aws_kms_key.this : key.rotation_period_in_days == 365 && key.deletion_window_in_days == 30])
    error_message = "Keys must rotate yearly and wait 30 days before deletion."
  }

  assert {
    condition     = alltrue([for key in aws_kms_key.this : !key.multi_region])
    error_message = "Keys must be single-region (data residency)."
  }

  assert {
    condition = alltrue(flatten([
      for key in aws_kms_key.this : [
        for statement in jsondecode(key.policy).Statement : [
          for action in flatten([statement.Action]) : action != "*" && action != "kms:*"
        ]
      ]
    ]))
    error_message = "No key policy statement may allow '*' or 'kms:*'."
  }

  assert {
    condition = alltrue(flatten([
      for key in aws_kms_key.this : [
        for statement in jsondecode(key.policy).Statement : statement.Principal != "*"
      ]
    ]))
    error_message = "No key policy statement may name the '*' principal."
  }

  assert {
    condition     = jsondecode(aws_kms_key.this["lake"].policy).Statement[0].Principal.AWS == "arn:aws:iam::111122223333:root"
    error_message = "The account root must administer the lake key."
  }

  assert {
    condition     = contains([for statement in jsondecode(aws_kms_key.this["logs"].policy).Statement : statement.Principal], { Service = "logging.s3.amazonaws.com" })
    error_message = "S3 server access logging must be able to use the logs key."
  }

  assert {
    condition     = !contains([for statement in jsondecode(aws_kms_key.this["secrets"].policy).Statement : statement.Principal], { Service = "logging.s3.amazonaws.com" })
    error_message = "Only the logs key may be used by the access-logging service."
  }

  assert {
    condition     = aws_kms_alias.this["lake"].name == "alias/creditlake-test-lake"
    error_message = "Lake key alias should be alias/creditlake-test-lake, got ${aws_kms_alias.this["lake"].name}."
  }
}

run "rejects_bad_input" {
  command = plan

  variables {
    deletion_window_in_days = 3
    account_id              = "1234"
  }

  # Each listed variable must reject its bad value; any other error fails the run.
  expect_failures = [var.deletion_window_in_days, var.account_id]
}

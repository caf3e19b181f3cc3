# Customer-managed KMS keys, one per kind of data, so a key policy and a key grant never span
# more than one trust boundary: the lake (personal financial information), secrets (the PII
# tokenisation key, database credentials) and logs (which can echo identifiers in errors).

locals {
  purposes = {
    lake    = "creditlake lake data: landing, bronze, warehouse, quarantine, ML artifacts, MLflow database, Airflow environment"
    secrets = "creditlake secrets: PII tokenisation key, MLflow and database credentials"
    logs    = "creditlake logs: S3 access logs, VPC flow logs, CloudWatch log groups, EMR logs"
  }

  account_root = "arn:${var.partition}:iam::${var.account_id}:root"

  # Spelled out rather than "kms:*": the account can administer and use the key through IAM
  # policies, and nothing else is implied by a wildcard that grows with the KMS API.
  account_actions = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
  ]

  account_statement = {
    Sid       = "AccountAdministersAndGrantsThroughIam"
    Effect    = "Allow"
    Principal = { AWS = local.account_root }
    Action    = local.account_actions
    Resource  = "*"
  }

  # CloudWatch Logs encrypts log groups itself (MWAA's with the lake key, the rest with the logs
  # key); the encryption context pins it to log groups of this account and region.
  cloudwatch_logs_statement = {
    Sid       = "CloudWatchLogsEncryptsThisAccountsLogGroups"
    Effect    = "Allow"
    Principal = { Service = "logs.${var.region}.amazonaws.com" }
    Action    = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
    Resource  = "*"
    Condition = {
      ArnLike = {
        "kms:EncryptionContext:aws:logs:arn" = "arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:*"
      }
    }
  }

  # S3 server access logging writes with the logging service principal, which needs the key of
  # the destination bucket.
  s3_access_logging_statement = {
    Sid       = "S3ServerAccessLoggingWritesLogs"
    Effect    = "Allow"
    Principal = { Service = "logging.s3.amazonaws.com" }
    Action    = ["kms:GenerateDataKey"]
    Resource  = "*"
    Condition = {
      StringEquals = { "aws:SourceAccount" = var.account_id }
    }
  }

  policies = {
    lake    = [local.account_statement, local.cloudwatch_logs_statement]
    secrets = [local.account_statement]
    logs    = [local.account_statement, local.cloudwatch_logs_statement, local.s3_access_logging_statement]
  }
}

resource "aws_kms_key" "this" {
  for_each = local.purposes

  description             = each.value
  enable_key_rotation     = true
  rotation_period_in_days = var.rotation_period_in_days
  deletion_window_in_days = var.deletion_window_in_days
  multi_region            = false
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.policies[each.key]
  })

  tags = { Name = "${var.name_prefix}-${each.key}", Purpose = each.key }
}

resource "aws_kms_alias" "this" {
  for_each = local.purposes

  name          = "alias/${var.name_prefix}-${each.key}"
  target_key_id = aws_kms_key.this[each.key].key_id
}

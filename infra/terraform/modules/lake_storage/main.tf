# The buckets of the lake. Each data bucket (landing, lake, ml, airflow) is a secure_bucket:
# encrypted with the lake key, versioned, closed to the public, owned by this account (no ACLs),
# reachable only over TLS, logged to the access-log bucket, with lifecycle rules that expire raw
# landing files after a retention period and old versions after a grace period. Quarantine is
# never expired, because it is the audit trail of every rejected row.

locals {
  names = {
    landing     = "${var.bucket_prefix}-landing"
    lake        = "${var.bucket_prefix}-lake"
    ml          = "${var.bucket_prefix}-ml"
    airflow     = "${var.bucket_prefix}-airflow"
    access_logs = "${var.bucket_prefix}-access-logs"
  }

  old_versions_expire = { noncurrent_expiration_days = var.noncurrent_version_retention_days }

  # Lake prefixes whose old versions expire; quarantine/ has its own rule that keeps everything.
  lake_rules = concat(
    [{
      id                     = "quarantine-kept-for-audit"
      prefix                 = "quarantine/"
      infrequent_access_days = var.quarantine_infrequent_access_days
    }],
    [
      for prefix in ["bronze/", "reconciliation/", "warehouse/", "reports/", "config/"] : {
        id                         = "expire-old-versions-${trimsuffix(prefix, "/")}"
        prefix                     = prefix
        noncurrent_expiration_days = var.noncurrent_version_retention_days
      }
    ],
  )
}

module "landing" {
  source = "./modules/secure_bucket"

  name          = local.names.landing
  contents      = "raw files exactly as the sources delivered them (personal data in clear)"
  partition     = var.partition
  kms_key_arn   = var.lake_key_arn
  log_bucket    = aws_s3_bucket.access_logs.id
  log_prefix    = "s3/landing/"
  force_destroy = var.force_destroy
  lifecycle_rules = [{
    id                         = "expire-raw-files"
    prefix                     = ""
    expiration_days            = var.landing_retention_days
    noncurrent_expiration_days = var.noncurrent_version_retention_days
  }]
}

module "lake" {
  source = "./modules/secure_bucket"

  name            = local.names.lake
  contents        = "bronze, quarantine, reconciliation, warehouse and quality reports"
  partition       = var.partition
  kms_key_arn     = var.lake_key_arn
  log_bucket      = aws_s3_bucket.access_logs.id
  log_prefix      = "s3/lake/"
  force_destroy   = var.force_destroy
  lifecycle_rules = local.lake_rules
}

module "ml" {
  source = "./modules/secure_bucket"

  name            = local.names.ml
  contents        = "MLflow artifacts: models, training and validation reports"
  partition       = var.partition
  kms_key_arn     = var.lake_key_arn
  log_bucket      = aws_s3_bucket.access_logs.id
  log_prefix      = "s3/ml/"
  force_destroy   = var.force_destroy
  lifecycle_rules = [merge({ id = "expire-old-versions", prefix = "" }, local.old_versions_expire)]
}

module "airflow" {
  source = "./modules/secure_bucket"

  name            = local.names.airflow
  contents        = "MWAA DAGs, requirements and startup script"
  partition       = var.partition
  kms_key_arn     = var.lake_key_arn
  log_bucket      = aws_s3_bucket.access_logs.id
  log_prefix      = "s3/airflow/"
  force_destroy   = var.force_destroy
  lifecycle_rules = [merge({ id = "expire-old-versions", prefix = "" }, local.old_versions_expire)]
}

locals {
  data_buckets = {
    landing = module.landing
    lake    = module.lake
    ml      = module.ml
    airflow = module.airflow
  }
  arns = merge(
    { for name, bucket in local.data_buckets : name => bucket.arn },
    { access_logs = local.access_logs_arn },
  )
}

# Access-log bucket ----------------------------------------------------------------------------
# The same controls as a secure_bucket, except that it cannot log to itself and that its policy
# admits S3's log delivery for this account's buckets.

locals {
  access_logs_arn = "arn:${var.partition}:s3:::${local.names.access_logs}"
}

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_144:Cross-region replication would copy logs that can name personal data out of its region (PIPL data residency).
  #checkov:skip=CKV_AWS_18:This is the access-log bucket; logging it to itself would log its own log writes forever.
  bucket        = local.names.access_logs
  force_destroy = var.force_destroy

  tags = { Name = local.names.access_logs, Contents = "S3 server access logs of the data buckets, EMR logs" }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.logs_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_notification" "access_logs" {
  bucket      = aws_s3_bucket.access_logs.id
  eventbridge = true
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.access_logs_arn, "${local.access_logs_arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid       = "AllowS3ServerAccessLogsOfThisAccount"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${local.access_logs_arn}/s3/*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = var.account_id }
          ArnLike      = { "aws:SourceArn" = [for name, bucket in local.data_buckets : bucket.arn] }
        }
      },
    ]
  })

  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}

    expiration {
      days = var.access_log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.access_logs]
}

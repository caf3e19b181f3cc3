# One data bucket with every control creditlake requires, written once so each bucket gets all of
# them: SSE-KMS with the given key, versioning, public access blocked, bucket-owner object
# ownership (no ACLs), a TLS-only policy that also refuses non-KMS uploads, access logging,
# EventBridge notifications and lifecycle rules.

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:Cross-region replication would copy personal financial information out of its region (PIPL data residency); versioning and backups cover recovery.
  bucket        = var.name
  force_destroy = var.force_destroy

  tags = { Name = var.name, Contents = var.contents }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_logging" "this" {
  bucket        = aws_s3_bucket.this.id
  target_bucket = var.log_bucket
  target_prefix = var.log_prefix
}

# A landing file's arrival is an event Airflow or an audit trail can react to; AWS service events
# on the default bus cost nothing unless a rule matches them.
resource "aws_s3_bucket_notification" "this" {
  bucket      = aws_s3_bucket.this.id
  eventbridge = true
}

locals {
  arn = "arn:${var.partition}:s3:::${var.name}"

  policy_statements = [
    {
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [local.arn, "${local.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    },
    {
      # An upload may name its own encryption only if that is SSE-KMS; the default does the rest.
      Sid       = "DenyUploadsNotEncryptedWithKms"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:PutObject"
      Resource  = "${local.arn}/*"
      Condition = { StringNotEqualsIfExists = { "s3:x-amz-server-side-encryption" = "aws:kms" } }
    },
  ]
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.policy_statements
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  # Incomplete uploads are cleaned up everywhere, including prefixes no other rule names; each
  # rule below repeats it for its own prefix (S3 allows the overlap, and scanners check per rule).
  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  dynamic "rule" {
    for_each = var.lifecycle_rules

    content {
      id     = rule.value.id
      status = "Enabled"

      filter {
        prefix = rule.value.prefix
      }

      dynamic "expiration" {
        for_each = rule.value.expiration_days == null ? [] : [rule.value.expiration_days]
        content {
          days = expiration.value
        }
      }

      dynamic "noncurrent_version_expiration" {
        for_each = rule.value.noncurrent_expiration_days == null ? [] : [rule.value.noncurrent_expiration_days]
        content {
          noncurrent_days = noncurrent_version_expiration.value
        }
      }

      dynamic "transition" {
        for_each = rule.value.infrequent_access_days == null ? [] : [rule.value.infrequent_access_days]
        content {
          days          = transition.value
          storage_class = "STANDARD_IA"
        }
      }

      dynamic "noncurrent_version_transition" {
        for_each = rule.value.infrequent_access_days == null ? [] : [rule.value.infrequent_access_days]
        content {
          noncurrent_days = noncurrent_version_transition.value
          storage_class   = "STANDARD_IA"
        }
      }

      abort_incomplete_multipart_upload {
        days_after_initiation = 7
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

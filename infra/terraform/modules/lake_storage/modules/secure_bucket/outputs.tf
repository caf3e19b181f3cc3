output "name" {
  description = "Bucket name."
  value       = aws_s3_bucket.this.bucket
}

output "arn" {
  description = "Bucket ARN (derived from the name, so it is known at plan time)."
  value       = local.arn
}

# The planned controls, exposed so the parent module's tests can assert on every bucket.
output "controls" {
  description = "The bucket's security and lifecycle settings as planned."
  value = {
    sse_algorithm       = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm
    kms_key_arn         = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].kms_master_key_id
    bucket_key_enabled  = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled
    versioning          = aws_s3_bucket_versioning.this.versioning_configuration[0].status
    public_access_block = [aws_s3_bucket_public_access_block.this.block_public_acls, aws_s3_bucket_public_access_block.this.block_public_policy, aws_s3_bucket_public_access_block.this.ignore_public_acls, aws_s3_bucket_public_access_block.this.restrict_public_buckets]
    object_ownership    = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership
    policy              = aws_s3_bucket_policy.this.policy
    log_bucket          = aws_s3_bucket_logging.this.target_bucket
    log_prefix          = aws_s3_bucket_logging.this.target_prefix
    lifecycle_rules     = aws_s3_bucket_lifecycle_configuration.this.rule
    force_destroy       = aws_s3_bucket.this.force_destroy
  }
}

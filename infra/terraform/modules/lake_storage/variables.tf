variable "bucket_prefix" {
  description = "Globally unique prefix of the bucket names, e.g. acme-creditlake-prod; buckets are <prefix>-landing, -lake, -ml, -airflow and -access-logs."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,44}[a-z0-9]$", var.bucket_prefix)) && !strcontains(var.bucket_prefix, "--")
    error_message = "bucket_prefix must be 3-46 characters of lower-case letters, digits and single hyphens (S3 bucket names allow no upper case), starting and ending with a letter or digit."
  }
}

variable "account_id" {
  description = "The AWS account that owns the buckets; log delivery is accepted only on its behalf."
  type        = string
}

variable "partition" {
  description = "The AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"
}

variable "lake_key_arn" {
  description = "KMS key of the landing, lake, ML and Airflow buckets."
  type        = string
}

variable "logs_key_arn" {
  description = "KMS key of the access-log bucket."
  type        = string
}

variable "landing_retention_days" {
  description = "Days a raw landing file is kept after delivery. Bronze holds the typed, tokenised copy; landing keeps raw identifiers, so it should not be kept longer than re-ingestion needs."
  type        = number

  validation {
    condition     = var.landing_retention_days >= 1 && var.landing_retention_days <= 3650 && floor(var.landing_retention_days) == var.landing_retention_days
    error_message = "landing_retention_days must be a whole number of days between 1 and 3650."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days an overwritten or deleted object version is kept (outside quarantine), to undo a bad run."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "quarantine_infrequent_access_days" {
  description = "Days after which quarantined rows move to STANDARD_IA. Quarantine is never expired: it is the audit trail of every rejected row."
  type        = number
  default     = 30

  validation {
    condition     = var.quarantine_infrequent_access_days >= 30
    error_message = "quarantine_infrequent_access_days must be at least 30 (the STANDARD_IA minimum)."
  }
}

variable "access_log_retention_days" {
  description = "Days S3 server access logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 90
    error_message = "access_log_retention_days must be at least 90."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy non-empty buckets. Only for throw-away environments."
  type        = bool
  default     = false
}

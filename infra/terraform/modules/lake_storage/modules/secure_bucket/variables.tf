variable "name" {
  description = "Globally unique bucket name."
  type        = string
}

variable "contents" {
  description = "What the bucket holds (a tag, for reviewers and cost reports)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the bucket's default SSE-KMS encryption."
  type        = string
}

variable "log_bucket" {
  description = "Bucket that receives this bucket's server access logs."
  type        = string
}

variable "log_prefix" {
  description = "Key prefix of this bucket's access logs in log_bucket."
  type        = string
}

variable "lifecycle_rules" {
  description = "Lifecycle rules by key prefix (\"\" for the whole bucket). A null expiration means current objects never expire; a null noncurrent expiration keeps old versions forever."
  type = list(object({
    id                         = string
    prefix                     = string
    expiration_days            = optional(number)
    noncurrent_expiration_days = optional(number)
    infrequent_access_days     = optional(number)
  }))

  validation {
    condition     = alltrue([for rule in var.lifecycle_rules : rule.id != "abort-incomplete-multipart-uploads"])
    error_message = "The rule id abort-incomplete-multipart-uploads is reserved for the bucket's own upload clean-up rule."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy the bucket with its contents."
  type        = bool
  default     = false
}

variable "partition" {
  description = "The AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"
}

variable "name_prefix" {
  description = "Prefix of every name in this deployment, e.g. creditlake-prod."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must be 3-31 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "account_id" {
  description = "The AWS account that owns the keys; its root principal administers them."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account ID."
  }
}

variable "region" {
  description = "The AWS region, used to name the regional CloudWatch Logs service principal."
  type        = string
}

variable "partition" {
  description = "The AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"
}

variable "deletion_window_in_days" {
  description = "Days a scheduled key deletion waits before it happens (7-30). Long on purpose: a deleted lake key makes the lake unreadable."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "rotation_period_in_days" {
  description = "Automatic key material rotation period (90-2560 days)."
  type        = number
  default     = 365

  validation {
    condition     = var.rotation_period_in_days >= 90 && var.rotation_period_in_days <= 2560
    error_message = "rotation_period_in_days must be between 90 and 2560."
  }
}

variable "name_prefix" {
  description = "Prefix of every name in this deployment, e.g. creditlake-prod; secrets are named <prefix>/<secret>."
  type        = string
}

variable "secrets_key_arn" {
  description = "KMS key that encrypts the secrets."
  type        = string
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can still be restored (7-30). Losing the PII key orphans every token in the lake."
  type        = number
  default     = 30

  validation {
    condition     = var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30
    error_message = "recovery_window_in_days must be between 7 and 30."
  }
}

variable "pii_key_reader_arns" {
  description = "The only principals allowed to read the PII tokenisation key (the Airflow role; the Spark role if jobs read it on the cluster). Everyone else is denied by the secret's resource policy, whatever their IAM policies say."
  type        = list(string)

  validation {
    condition     = length(var.pii_key_reader_arns) > 0
    error_message = "pii_key_reader_arns must name at least one role: without a reader the pipeline cannot tokenise."
  }
}

variable "mlflow_credential_reader_arns" {
  description = "The only principals allowed to read the MLflow admin credentials (Airflow, the MLflow task execution role)."
  type        = list(string)
}

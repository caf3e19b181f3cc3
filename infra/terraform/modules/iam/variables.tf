variable "partition" {
  description = "The AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"
}

variable "account_id" {
  description = "The AWS account of the deployment."
  type        = string
}

variable "region" {
  description = "The AWS region of the deployment."
  type        = string
}

variable "role_names" {
  description = "Name of each workload role. The root module also derives their ARNs from these names (for the secrets' resource policies), which is why they are inputs."
  type = object({
    airflow    = string
    spark      = string
    mlflow     = string
    governance = string
  })
}

variable "bucket_arns" {
  description = "Bucket ARN by role (landing, lake, ml, airflow, access_logs), from the lake_storage module."
  type        = map(string)

  validation {
    condition     = alltrue([for name in ["landing", "lake", "ml", "airflow", "access_logs"] : contains(keys(var.bucket_arns), name)])
    error_message = "bucket_arns must hold landing, lake, ml, airflow and access_logs."
  }
}

variable "lake_key_arn" {
  description = "KMS key of the lake buckets, the Glue catalog and MWAA."
  type        = string
}

variable "logs_key_arn" {
  description = "KMS key of the access-log bucket (EMR writes its logs there)."
  type        = string
}

variable "secrets_key_arn" {
  description = "KMS key of the Secrets Manager entries."
  type        = string
}

variable "pii_key_secret_arn" {
  description = "Secret holding the PII tokenisation key."
  type        = string
}

variable "mlflow_admin_secret_arn" {
  description = "Secret holding the MLflow admin user name and password."
  type        = string
}

variable "glue_database_names" {
  description = "Glue database name by layer (bronze, staging, intermediate, marts), from the catalog module."
  type        = map(string)
}

variable "mwaa_environment_name" {
  description = "Name of the MWAA environment whose execution role this is."
  type        = string
}

variable "governance_principal_arns" {
  description = "IAM principals (e.g. the governance team's SSO role) allowed to assume the read-only governance role."
  type        = list(string)

  validation {
    condition     = length(var.governance_principal_arns) > 0 && alltrue([for arn in var.governance_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", arn))])
    error_message = "governance_principal_arns must list at least one IAM role or user ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

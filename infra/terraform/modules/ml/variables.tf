variable "name_prefix" {
  description = "Prefix of every name in this deployment, e.g. creditlake-prod."
  type        = string
}

variable "account_id" {
  description = "The AWS account of the deployment."
  type        = string
}

variable "region" {
  description = "The AWS region of the deployment (for the container's log configuration)."
  type        = string
}

variable "partition" {
  description = "The AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"
}

variable "vpc_id" {
  description = "VPC of the load balancer's target group."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (at least two zones) of the database, the tasks and the load balancer."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list at least two private subnets in different zones."
  }
}

variable "security_group_ids" {
  description = "Security groups from the network module: load balancer, tasks, database."
  type = object({
    alb      = string
    task     = string
    database = string
  })
}

variable "lake_key_arn" {
  description = "KMS key of the database storage and Performance Insights."
  type        = string
}

variable "secrets_key_arn" {
  description = "KMS key of the RDS-managed master password secret."
  type        = string
}

variable "logs_key_arn" {
  description = "KMS key of the MLflow server's log group."
  type        = string
}

variable "artifacts_uri" {
  description = "s3:// location of MLflow artifacts (the lake_storage module's mlflow_artifacts_uri)."
  type        = string

  validation {
    condition     = startswith(var.artifacts_uri, "s3://")
    error_message = "artifacts_uri must be an s3:// URI."
  }
}

variable "task_role_arn" {
  description = "The iam module's MLflow role (S3 artifacts)."
  type        = string
}

variable "execution_role_name" {
  description = "Name of the ECS task execution role this module creates (fixed by the root module, which names it in the MLflow secret's resource policy)."
  type        = string
}

variable "mlflow_admin_secret_arn" {
  description = "Secret with the MLflow admin {username, password}."
  type        = string
}

variable "mlflow_image" {
  description = "Container image of the MLflow server (mlflow[auth] 3.17.2 with psycopg2 and boto3) in a private ECR repository, pinned by digest."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$", var.mlflow_image))
    error_message = "mlflow_image must be an ECR image pinned by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:<64 hex>."
  }
}

variable "mlflow_hostname" {
  description = "DNS name clients use (MLFLOW_TRACKING_URI=https://<hostname>); the certificate must cover it."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", var.mlflow_hostname))
    error_message = "mlflow_hostname must be a lower-case DNS name such as mlflow.creditlake.internal."
  }
}

variable "certificate_arn" {
  description = "ACM certificate (e.g. from ACM Private CA) for mlflow_hostname, served by the internal load balancer."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "private_zone_id" {
  description = "Route 53 private hosted zone in which to create mlflow_hostname, or null to manage DNS elsewhere."
  type        = string
  default     = null
}

variable "db_instance_class" {
  description = "RDS instance class of the MLflow backend store."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_allocated_storage_gb" {
  description = "Initial storage of the database; it grows up to 5x automatically."
  type        = number
  default     = 50
}

variable "db_engine_version" {
  description = "PostgreSQL major version."
  type        = string
  default     = "17"
}

variable "db_multi_az" {
  description = "Keep a synchronous standby in a second zone."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery)."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 7 and 35."
  }
}

variable "deletion_protection" {
  description = "Protect the database and load balancer from deletion."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Days the MLflow server's logs are kept."
  type        = number
  default     = 365
}

variable "desired_count" {
  description = "Number of MLflow server tasks."
  type        = number
  default     = 1
}

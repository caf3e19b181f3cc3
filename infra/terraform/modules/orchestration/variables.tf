variable "name" {
  description = "Name of the MWAA environment (also used in the execution role's log and metric ARNs)."
  type        = string
}

variable "airflow_version" {
  description = "Apache Airflow version MWAA runs. creditlake's DAGs are written for Airflow 3 (airflow.sdk)."
  type        = string
  default     = "3.0.6"

  validation {
    condition     = can(regex("^3\\.[0-9]+\\.[0-9]+$", var.airflow_version))
    error_message = "airflow_version must be an Airflow 3 release (3.x.y): creditlake's DAGs import airflow.sdk."
  }
}

variable "environment_class" {
  description = "MWAA environment class."
  type        = string
  default     = "mw1.small"

  validation {
    condition     = contains(["mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge"], var.environment_class)
    error_message = "environment_class must be one of mw1.micro, mw1.small, mw1.medium, mw1.large, mw1.xlarge, mw1.2xlarge."
  }
}

variable "min_workers" {
  description = "Minimum Celery workers."
  type        = number
  default     = 1
}

variable "max_workers" {
  description = "Maximum Celery workers."
  type        = number
  default     = 4

  validation {
    condition     = var.max_workers >= var.min_workers
    error_message = "max_workers must be at least min_workers."
  }
}

variable "execution_role_arn" {
  description = "The iam module's Airflow role."
  type        = string
}

variable "source_bucket_arn" {
  description = "ARN of the bucket with dags/, requirements.txt and the generated startup.sh."
  type        = string
}

variable "source_bucket_name" {
  description = "Name of that bucket."
  type        = string
}

variable "requirements_s3_path" {
  description = "Key of requirements.txt in the source bucket, or null before the first upload (MWAA refuses a path to a missing object). Without internet access it must install from wheels in plugins.zip."
  type        = string
  default     = "requirements.txt"
}

variable "plugins_s3_path" {
  description = "Key of plugins.zip (wheels for an environment without internet access), or null."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Two private subnets in different availability zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) == 2
    error_message = "MWAA takes exactly two private subnets."
  }
}

variable "security_group_ids" {
  description = "Security groups of the environment (the network module's airflow group)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "Customer-managed key of the environment (metadata, logs, Celery queue)."
  type        = string
}

variable "log_level" {
  description = "Level of the task, scheduler, worker, web server and DAG-processing logs."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"], var.log_level)
    error_message = "log_level must be CRITICAL, ERROR, WARNING, INFO or DEBUG."
  }
}

variable "creditlake_environment" {
  description = "creditlake settings (environment variable -> value) exported to every Airflow component by the generated startup script. Values are plain configuration, never secrets."
  type        = map(string)

  validation {
    condition     = alltrue([for name, value in var.creditlake_environment : can(regex("^[A-Z][A-Z0-9_]*$", name)) && !strcontains(value, "'")])
    error_message = "creditlake_environment names must be upper-case environment variable names and values must not contain single quotes."
  }

  validation {
    condition     = !contains(keys(var.creditlake_environment), "CREDITLAKE_PII_KEY")
    error_message = "CREDITLAKE_PII_KEY is not a setting: creditlake reads the PII key from its secrets backend (Secrets Manager, <CREDITLAKE_SECRETS_PREFIX>/pii-key)."
  }

  validation {
    condition     = lookup(var.creditlake_environment, "CREDITLAKE_SECRETS_BACKEND", "") == "aws" && lookup(var.creditlake_environment, "CREDITLAKE_SECRETS_PREFIX", "") != ""
    error_message = "creditlake_environment must set CREDITLAKE_SECRETS_BACKEND = \"aws\" and CREDITLAKE_SECRETS_PREFIX (the secrets module's name_prefix): the PII key is read from Secrets Manager."
  }
}

variable "mlflow_admin_secret_arn" {
  description = "Secret holding the MLflow credentials; workers export them as MLFLOW_TRACKING_USERNAME/PASSWORD."
  type        = string
}

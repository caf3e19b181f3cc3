# Inputs of an environment, set by ../envs/<env>.tfvars. Each one a user can get wrong is
# validated here, so a bad tfvars file fails at plan with a message that names the variable and
# the rule.

variable "environment" {
  description = "Which environment this is, dev or prod: it names every resource (creditlake-<environment>-…) and sets the Environment tag."
  type        = string

  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be \"dev\" or \"prod\", the name of the envs/<env>.tfvars file that sets it."
  }
}

variable "aws_account_id" {
  description = "The AWS account this environment lives in (one environment per account: Glue database names are per account)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be the 12-digit ID of the AWS account, e.g. \"123456789012\"."
  }
}

variable "region" {
  description = "AWS region, e.g. ap-southeast-1 or cn-north-1. Personal data stays in it (no cross-region replication)."
  type        = string

  validation {
    condition     = can(regex("^(af|ap|ca|cn|eu|il|me|mx|sa|us)-(gov-)?[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region code such as ap-southeast-1, eu-central-1 or cn-north-1."
  }
}

variable "availability_zones" {
  description = "Availability zones of the private subnets, in the region (at least two; three recommended for prod)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must list at least two distinct zones (MWAA and Multi-AZ RDS need two)."
  }

  validation {
    condition     = alltrue([for zone in var.availability_zones : startswith(zone, var.region)])
    error_message = "Every availability zone must belong to var.region (e.g. ap-southeast-1a for ap-southeast-1)."
  }
}

variable "bucket_prefix" {
  description = "Globally unique prefix of the bucket names, e.g. acme-creditlake-prod."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,44}[a-z0-9]$", var.bucket_prefix)) && !strcontains(var.bucket_prefix, "--")
    error_message = "bucket_prefix must be 3-46 characters of lower-case letters, digits and single hyphens (S3 bucket names allow no upper case), starting and ending with a letter or digit."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && can(regex("^(10\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.|192\\.168\\.)", var.vpc_cidr))
    error_message = "vpc_cidr must be a private (RFC 1918) IPv4 CIDR such as 10.40.0.0/16."
  }
}

variable "landing_retention_days" {
  description = "Days raw landing files (personal data in clear) are kept before they expire."
  type        = number

  validation {
    condition     = var.landing_retention_days >= 1 && var.landing_retention_days <= 3650 && floor(var.landing_retention_days) == var.landing_retention_days
    error_message = "landing_retention_days must be a whole number of days between 1 and 3650: 0 would expire files before bronze ingests them."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days overwritten object versions are kept (to undo a bad run)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "access_log_retention_days" {
  description = "Days S3 access logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 90
    error_message = "access_log_retention_days must be at least 90."
  }
}

variable "governance_principal_arns" {
  description = "IAM principals allowed to assume the read-only governance role."
  type        = list(string)

  validation {
    condition     = length(var.governance_principal_arns) > 0 && alltrue([for arn in var.governance_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", arn))])
    error_message = "governance_principal_arns must list at least one IAM role or user ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "emr_release_label" {
  description = "EMR release of the Spark cluster (its Spark must accept creditlake's PySpark 4.1 Spark Connect client)."
  type        = string

  validation {
    condition     = can(regex("^emr-[0-9]+\\.[0-9]+\\.[0-9]+$", var.emr_release_label))
    error_message = "emr_release_label must look like emr-<major>.<minor>.<patch>."
  }
}

variable "emr_tls_certificates_s3_uri" {
  description = "s3:// URI of the zip of PEM files for EMR in-transit encryption."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]+/.+\\.zip$", var.emr_tls_certificates_s3_uri))
    error_message = "emr_tls_certificates_s3_uri must be an s3:// URI of a .zip of PEM files."
  }
}

variable "emr_instance_type" {
  description = "Instance type of the EMR primary and core nodes."
  type        = string
  default     = "m6g.xlarge"
}

variable "emr_core_instance_count" {
  description = "Core nodes at start."
  type        = number
  default     = 2
}

variable "emr_max_capacity_units" {
  description = "Upper bound of EMR managed scaling, in instances."
  type        = number
  default     = 6
}

variable "airflow_version" {
  description = "Airflow version of the MWAA environment (Airflow 3)."
  type        = string
  default     = "3.0.6"

  validation {
    condition     = can(regex("^3\\.[0-9]+\\.[0-9]+$", var.airflow_version))
    error_message = "airflow_version must be an Airflow 3 release (3.x.y): creditlake's DAGs import airflow.sdk."
  }
}

variable "mwaa_environment_class" {
  description = "MWAA environment class."
  type        = string
  default     = "mw1.medium"
}

variable "mwaa_max_workers" {
  description = "Maximum MWAA workers."
  type        = number
  default     = 4
}

variable "mwaa_requirements_s3_path" {
  description = "Key of requirements.txt in the Airflow bucket, or null until it has been uploaded."
  type        = string
  default     = "requirements.txt"
}

variable "mlflow_image" {
  description = "MLflow server image in ECR, pinned by digest."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$", var.mlflow_image))
    error_message = "mlflow_image must be an ECR image pinned by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:<64 hex>; tags such as :latest can change under a running deployment."
  }
}

variable "mlflow_hostname" {
  description = "DNS name of the MLflow server, e.g. mlflow.creditlake.internal."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", var.mlflow_hostname))
    error_message = "mlflow_hostname must be a lower-case DNS name such as mlflow.creditlake.internal."
  }
}

variable "mlflow_certificate_arn" {
  description = "ACM certificate covering mlflow_hostname."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.mlflow_certificate_arn))
    error_message = "mlflow_certificate_arn must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)."
  }
}

variable "private_zone_id" {
  description = "Route 53 private hosted zone for mlflow_hostname, or null to manage DNS elsewhere."
  type        = string
  default     = null
}

variable "mlflow_client_cidrs" {
  description = "Extra CIDRs (e.g. a VPN range) allowed to reach MLflow; never 0.0.0.0/0."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.mlflow_client_cidrs : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "mlflow_client_cidrs must be IPv4 CIDRs other than 0.0.0.0/0."
  }
}

variable "db_instance_class" {
  description = "RDS instance class of the MLflow database."
  type        = string
  default     = "db.t4g.medium"
}

variable "tags" {
  description = "Extra tags on every resource (cost centre, owner)."
  type        = map(string)
  default     = {}
}

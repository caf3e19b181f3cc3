variable "name_prefix" {
  description = "Prefix of every name in this deployment, e.g. creditlake-prod."
  type        = string
}

variable "account_id" {
  description = "The AWS account of the deployment; EMR may assume its service role only on its behalf."
  type        = string
}

variable "partition" {
  description = "The AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"
}

variable "release_label" {
  description = "EMR release. Spark Connect jobs need a Spark server compatible with creditlake's PySpark client (4.1): choose a release whose Spark is 4.x."
  type        = string

  validation {
    condition     = can(regex("^emr-[0-9]+\\.[0-9]+\\.[0-9]+$", var.release_label))
    error_message = "release_label must look like emr-<major>.<minor>.<patch>, e.g. emr-7.10.0."
  }
}

variable "subnet_id" {
  description = "Private subnet of the cluster."
  type        = string
}

variable "security_group_ids" {
  description = "EMR-managed security groups: primary (spark_master), core (spark_core) and service access (spark_service)."
  type = object({
    master  = string
    core    = string
    service = string
  })
}

variable "instance_profile_arn" {
  description = "Instance profile of the cluster nodes (the iam module's Spark role)."
  type        = string
}

variable "spark_role_arn" {
  description = "Role inside that instance profile; the EMR service role may pass only this role."
  type        = string
}

variable "lake_key_arn" {
  description = "KMS key for S3 data, local disks and EBS volumes of the cluster."
  type        = string
}

variable "logs_key_arn" {
  description = "KMS key for the cluster logs EMR pushes to S3."
  type        = string
}

variable "log_uri" {
  description = "S3 location of cluster and step logs."
  type        = string

  validation {
    condition     = startswith(var.log_uri, "s3://")
    error_message = "log_uri must be an s3:// URI."
  }
}

variable "tls_certificates_s3_uri" {
  description = "s3:// URI of the zip of PEM files EMR uses for in-transit encryption between nodes (see the EMR security configuration docs)."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]+/.+\\.zip$", var.tls_certificates_s3_uri))
    error_message = "tls_certificates_s3_uri must be an s3:// URI of a .zip of PEM files."
  }
}

variable "master_instance_type" {
  description = "Instance type of the primary node (runs the Thrift and Spark Connect servers and drivers)."
  type        = string
  default     = "m6g.xlarge"
}

variable "core_instance_type" {
  description = "Instance type of the core nodes."
  type        = string
  default     = "m6g.xlarge"
}

variable "core_instance_count" {
  description = "Core nodes at start; managed scaling moves between min and max capacity."
  type        = number
  default     = 2

  validation {
    condition     = var.core_instance_count >= 1
    error_message = "core_instance_count must be at least 1."
  }
}

variable "max_capacity_units" {
  description = "Upper bound of managed scaling, in instances."
  type        = number
  default     = 6

  validation {
    condition     = var.max_capacity_units >= var.core_instance_count + 1
    error_message = "max_capacity_units must be at least core_instance_count + 1 (the primary node counts)."
  }
}

variable "ebs_size_gb" {
  description = "Size of each node's encrypted EBS volume."
  type        = number
  default     = 64
}

variable "termination_protection" {
  description = "Refuse to terminate the cluster until this is turned off."
  type        = bool
  default     = true
}

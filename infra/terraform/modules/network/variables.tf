variable "name_prefix" {
  description = "Prefix of every name in this deployment, e.g. creditlake-prod."
  type        = string
}

variable "region" {
  description = "The AWS region; names the VPC endpoint services."
  type        = string
}

variable "cidr_block" {
  description = "IPv4 CIDR of the VPC, e.g. 10.40.0.0/16."
  type        = string

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) <= 22
    error_message = "cidr_block must be an IPv4 CIDR of /22 or larger, e.g. 10.40.0.0/16."
  }
}

variable "availability_zones" {
  description = "Availability zones of the private subnets; at least two (MWAA and RDS need two)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must list at least two distinct zones."
  }
}

variable "subnet_newbits" {
  description = "Bits added to the VPC prefix for each private subnet (4 on a /16 gives /20 subnets)."
  type        = number
  default     = 4
}

variable "interface_endpoint_services" {
  description = "AWS services reached through interface endpoints, since the private subnets have no route to the internet."
  type        = list(string)
  default = [
    "ecr.api",
    "ecr.dkr",
    "elasticmapreduce",
    "glue",
    "kms",
    "logs",
    "monitoring",
    "secretsmanager",
    "sqs",
    "sts",
  ]
}

variable "logs_key_arn" {
  description = "KMS key that encrypts the VPC flow log group."
  type        = string
}

variable "flow_log_retention_days" {
  description = "Days VPC flow logs are kept in CloudWatch Logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a CloudWatch Logs retention of at least one year (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "mlflow_client_cidrs" {
  description = "Extra CIDRs (e.g. a VPN range) allowed to reach the MLflow load balancer on 443; never 0.0.0.0/0."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.mlflow_client_cidrs : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "mlflow_client_cidrs must be IPv4 CIDRs other than 0.0.0.0/0."
  }
}

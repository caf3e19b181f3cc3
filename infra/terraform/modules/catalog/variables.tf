variable "lake_bucket_name" {
  description = "Name of the lake bucket; database locations point into it."
  type        = string
}

variable "lake_key_arn" {
  description = "KMS key that encrypts the Data Catalog's metadata and connection passwords."
  type        = string
}

variable "databases" {
  description = "Glue database by name -> its location prefix in the lake bucket. The names are the schemas dbt writes (exactly staging, intermediate, marts) and the lake's Iceberg namespaces (bronze, quarantine, lake: creditlake.lake.NAMESPACES); a Glue database name is unique per account and region, so run one environment per AWS account."
  type        = map(string)
  default = {
    bronze       = "bronze/"
    quarantine   = "quarantine/"
    lake         = "lake/"
    staging      = "warehouse/staging/"
    intermediate = "warehouse/intermediate/"
    marts        = "warehouse/marts/"
  }

  validation {
    condition     = alltrue([for name, _ in var.databases : can(regex("^[a-z][a-z0-9_]{0,254}$", name))]) && alltrue([for name in ["bronze", "staging", "marts"] : contains(keys(var.databases), name)])
    error_message = "databases must use lower-case Glue names and include bronze, staging and marts."
  }
}

variable "manage_catalog_encryption" {
  description = "Set the account's Data Catalog encryption (one setting per account and region; turn off if another stack owns it)."
  type        = bool
  default     = true
}

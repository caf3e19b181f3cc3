# Glue Data Catalog databases for the lake's layers. The Spark cluster uses the catalog as its
# Hive metastore, so bronze written by Spark and the warehouse built by dbt-spark are tables the
# same engine (and Athena, for governance) can read by name.

resource "aws_glue_catalog_database" "this" {
  for_each = var.databases

  name         = each.key
  description  = "creditlake ${each.key} layer"
  location_uri = "s3://${var.lake_bucket_name}/${each.value}"
}

resource "aws_glue_data_catalog_encryption_settings" "this" {
  count = var.manage_catalog_encryption ? 1 : 0

  data_catalog_encryption_settings {
    encryption_at_rest {
      catalog_encryption_mode = "SSE-KMS"
      sse_aws_kms_key_id      = var.lake_key_arn
    }
    connection_password_encryption {
      return_connection_password_encrypted = true
      aws_kms_key_id                       = var.lake_key_arn
    }
  }
}

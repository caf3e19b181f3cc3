output "bucket_names" {
  description = "Bucket name by role: landing, lake, ml, airflow, access_logs."
  value       = local.names
}

output "bucket_arns" {
  description = "Bucket ARN by role: landing, lake, ml, airflow, access_logs."
  value       = local.arns
}

output "bucket_controls" {
  description = "Planned security and lifecycle settings of every data bucket (for review and tests)."
  value       = { for name, bucket in local.data_buckets : name => bucket.controls }
}

output "landing_uri" {
  description = "CREDITLAKE_LANDING_URI: where sources deliver <source>/<yyyy-mm-dd>/<file>."
  value       = "s3://${module.landing.name}"
}

output "lake_uri" {
  description = "The lake bucket as Spark's Hadoop S3 connector addresses it (s3a)."
  value       = "s3a://${module.lake.name}"
}

output "warehouse_uri" {
  description = "Where dbt's staging, intermediate and marts tables live (Glue database locations)."
  value       = "s3://${module.lake.name}/warehouse"
}

output "reports_uri" {
  description = "Where quality reports (Great Expectations Data Docs, governance report) are published."
  value       = "s3://${module.lake.name}/reports"
}

output "mlflow_artifacts_uri" {
  description = "The MLflow server's --artifacts-destination."
  value       = "s3://${module.ml.name}/artifacts"
}

output "emr_log_uri" {
  description = "Where EMR writes cluster and step logs."
  value       = "s3://${aws_s3_bucket.access_logs.bucket}/emr/"
}

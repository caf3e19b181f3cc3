# Outputs that map one-to-one onto creditlake's settings (see infra/terraform/README.md).

output "creditlake_environment" {
  description = "creditlake settings as environment variables (also written to MWAA's startup script)."
  value       = local.creditlake_environment
}

output "CREDITLAKE_LANDING_URI" {
  description = "Landing zone of the sources' deliveries."
  value       = module.lake_storage.landing_uri
}

output "CREDITLAKE_CATALOG_TYPE" {
  description = "The lake's Iceberg catalog: the Glue Data Catalog (databases bronze, quarantine, lake)."
  value       = local.creditlake_environment.CREDITLAKE_CATALOG_TYPE
}

output "CREDITLAKE_CATALOG_WAREHOUSE" {
  description = "Where the lake's Iceberg table files go: the lake bucket."
  value       = local.creditlake_environment.CREDITLAKE_CATALOG_WAREHOUSE
}

output "CREDITLAKE_CATALOG_REGION" {
  description = "Region of the Glue catalog and the lake bucket."
  value       = local.creditlake_environment.CREDITLAKE_CATALOG_REGION
}

output "CREDITLAKE_SPARK_MASTER" {
  description = "Spark Connect endpoint of the EMR cluster."
  value       = module.spark.spark_master
}

output "MLFLOW_TRACKING_URI" {
  description = "The MLflow tracking server (HTTPS, basic auth)."
  value       = module.ml.tracking_uri
}

output "CREDITLAKE_MLFLOW_ARTIFACT_ROOT" {
  description = "Artifact root of new experiments: proxied by the tracking server to the ML bucket."
  value       = local.creditlake_environment.CREDITLAKE_MLFLOW_ARTIFACT_ROOT
}

output "pii_key_secret_arn" {
  description = "The PII key's secret (creditlake reads <CREDITLAKE_SECRETS_PREFIX>/pii-key)."
  value       = module.secrets.pii_key_secret_arn
}

output "mlflow_admin_secret_arn" {
  description = "Source of MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD."
  value       = module.secrets.mlflow_admin_secret_arn
}

output "mlflow_db_secret_arn" {
  description = "Database credentials of the MLflow backend store, managed and rotated by RDS."
  value       = module.ml.db_master_secret_arn
}

output "role_arns" {
  description = "Workload role ARN by name: airflow, spark, mlflow, governance."
  value       = module.iam.role_arns
}

output "bucket_names" {
  description = "Bucket name by role."
  value       = module.lake_storage.bucket_names
}

output "mlflow_artifacts_uri" {
  description = "Where the MLflow server stores artifacts."
  value       = module.lake_storage.mlflow_artifacts_uri
}

output "reports_uri" {
  description = "Where quality and governance reports are published (readable by the governance role)."
  value       = module.lake_storage.reports_uri
}

output "glue_databases" {
  description = "Glue database by layer (the dbt-spark schemas)."
  value       = module.catalog.database_names
}

output "dbt_spark_thrift" {
  description = "host and port for a dbt-spark target (method: thrift)."
  value       = { host = module.spark.thrift_host, port = module.spark.thrift_port }
}

output "airflow_dags_uri" {
  description = "Where to upload dags/ for MWAA."
  value       = module.orchestration.dags_uri
}

output "airflow_webserver_url" {
  description = "Airflow UI (inside the VPC)."
  value       = module.orchestration.webserver_url
}

output "kms_key_arns" {
  description = "KMS key ARN by purpose."
  value       = module.kms.key_arns
}

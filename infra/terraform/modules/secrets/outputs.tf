output "pii_key_secret_arn" {
  description = "Secret holding the PII tokenisation key (creditlake's secret pii-key)."
  value       = aws_secretsmanager_secret.this["pii_key"].arn
}

output "secrets_prefix" {
  description = "CREDITLAKE_SECRETS_PREFIX of this deployment: creditlake reads <prefix>/<name>."
  value       = var.name_prefix
}

output "pii_key_secret_name" {
  description = "Name of the PII key secret (for aws secretsmanager put-secret-value)."
  value       = aws_secretsmanager_secret.this["pii_key"].name
}

output "mlflow_admin_secret_arn" {
  description = "Secret holding the MLflow admin credentials (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD)."
  value       = aws_secretsmanager_secret.this["mlflow_admin"].arn
}

output "mlflow_admin_secret_name" {
  description = "Name of the MLflow admin secret."
  value       = aws_secretsmanager_secret.this["mlflow_admin"].name
}

output "tracking_uri" {
  description = "MLFLOW_TRACKING_URI of every creditlake client."
  value       = "https://${local.hostname}"
}

output "load_balancer_dns_name" {
  description = "DNS name of the internal load balancer (point mlflow_hostname at it if private_zone_id is null)."
  value       = aws_lb.this.dns_name
}

output "db_endpoint" {
  description = "Host:port of the MLflow database (private)."
  value       = aws_db_instance.this.endpoint
}

output "db_master_secret_arn" {
  description = "Secrets Manager entry RDS manages for the database credentials."
  value       = local.db_secret_arn
}

output "execution_role_arn" {
  description = "ECS task execution role of the MLflow server."
  value       = aws_iam_role.execution.arn
}

output "ecs_cluster_name" {
  description = "ECS cluster running the MLflow server."
  value       = aws_ecs_cluster.this.name
}

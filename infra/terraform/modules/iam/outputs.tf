output "role_arns" {
  description = "Role ARN by workload: airflow, spark, mlflow, governance."
  value       = { for workload, role in aws_iam_role.this : workload => role.arn }
}

output "airflow_role_arn" {
  description = "MWAA execution role."
  value       = aws_iam_role.this["airflow"].arn
}

output "spark_role_arn" {
  description = "Role of the EMR instances (Spark jobs, dbt-spark)."
  value       = aws_iam_role.this["spark"].arn
}

output "spark_instance_profile_arn" {
  description = "Instance profile of the EMR instances."
  value       = aws_iam_instance_profile.spark.arn
}

output "mlflow_role_arn" {
  description = "Task role of the MLflow server."
  value       = aws_iam_role.this["mlflow"].arn
}

output "governance_role_arn" {
  description = "Read-only role of the governance and risk teams."
  value       = aws_iam_role.this["governance"].arn
}

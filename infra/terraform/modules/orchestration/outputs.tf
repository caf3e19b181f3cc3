output "environment_name" {
  description = "Name of the MWAA environment."
  value       = aws_mwaa_environment.this.name
}

output "environment_arn" {
  description = "ARN of the MWAA environment."
  value       = aws_mwaa_environment.this.arn
}

output "webserver_url" {
  description = "URL of the Airflow UI (reachable only from inside the VPC)."
  value       = aws_mwaa_environment.this.webserver_url
}

output "dags_uri" {
  description = "Where to upload the repository's dags/ folder."
  value       = "s3://${var.source_bucket_name}/dags/"
}

output "startup_script" {
  description = "The generated startup script (configuration only, no secrets); shown for review."
  value       = local.startup_script
}

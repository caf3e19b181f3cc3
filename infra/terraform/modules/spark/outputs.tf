output "cluster_id" {
  description = "ID of the EMR cluster."
  value       = aws_emr_cluster.this.id
}

output "primary_dns" {
  description = "Private DNS name of the primary node."
  value       = aws_emr_cluster.this.master_public_dns
}

output "spark_master" {
  description = "CREDITLAKE_SPARK_MASTER: the Spark Connect endpoint creditlake's jobs use."
  value       = "sc://${aws_emr_cluster.this.master_public_dns}:${local.connect_port}"
}

output "thrift_host" {
  description = "Host of the Spark Thrift Server for dbt-spark (method: thrift)."
  value       = aws_emr_cluster.this.master_public_dns
}

output "thrift_port" {
  description = "Port of the Spark Thrift Server."
  value       = local.thrift_port
}

output "service_role_arn" {
  description = "EMR service role."
  value       = aws_iam_role.service.arn
}

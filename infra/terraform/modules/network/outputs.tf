output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, in the order of availability_zones."
  value       = [for zone in var.availability_zones : aws_subnet.private[zone].id]
}

output "private_route_table_id" {
  description = "The route table of the private subnets (routes only inside the VPC and to S3)."
  value       = aws_route_table.private.id
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway endpoint."
  value       = aws_vpc_endpoint.s3.id
}

output "security_group_ids" {
  description = "Security group of every workload by name (airflow, spark_master, spark_core, spark_service, mlflow_alb, mlflow_task, database, endpoints)."
  value       = { for name, group in aws_security_group.this : name => group.id }
}

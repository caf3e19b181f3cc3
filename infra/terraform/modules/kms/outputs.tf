output "lake_key_arn" {
  description = "ARN of the key that encrypts the lake buckets, the Glue catalog, RDS and MWAA."
  value       = aws_kms_key.this["lake"].arn
}

output "secrets_key_arn" {
  description = "ARN of the key that encrypts Secrets Manager entries."
  value       = aws_kms_key.this["secrets"].arn
}

output "logs_key_arn" {
  description = "ARN of the key that encrypts access logs and CloudWatch log groups."
  value       = aws_kms_key.this["logs"].arn
}

output "key_arns" {
  description = "Every key ARN by purpose (lake, secrets, logs)."
  value       = { for purpose, key in aws_kms_key.this : purpose => key.arn }
}

output "alias_names" {
  description = "Alias of every key by purpose."
  value       = { for purpose, alias in aws_kms_alias.this : purpose => alias.name }
}

output "database_names" {
  description = "Glue database name by layer."
  value       = { for layer, database in aws_glue_catalog_database.this : layer => database.name }
}

output "database_locations" {
  description = "S3 location of every Glue database."
  value       = { for layer, database in aws_glue_catalog_database.this : layer => database.location_uri }
}

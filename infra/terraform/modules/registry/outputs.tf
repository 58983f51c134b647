output "table_name" {
  description = "Name of the catalog registry table."
  value       = aws_dynamodb_table.registry.name
}

output "table_arn" {
  description = "ARN of the catalog registry table (its indexes are <arn>/index/*)."
  value       = aws_dynamodb_table.registry.arn
}

output "kms_key_arn" {
  description = "ARN of the customer-managed key the table is encrypted with."
  value       = aws_kms_key.table.arn
}

output "function_role_arns" {
  description = "Per product (\"<domain>/<name>\") the ARN of its functions' role: annotate service account dp-<domain>-<name> with eks.amazonaws.com/role-arn."
  value       = { for id, role in aws_iam_role.function : id => role.arn }
}

output "service_accounts" {
  description = "Per product the service account its functions run as (namespace/name)."
  value       = { for id, f in local.functions : id => "${var.namespace}/${f.service_account}" }
}

output "adapter_role_arn" {
  description = "ARN of the S3 adapter's role: annotate its service account with eks.amazonaws.com/role-arn."
  value       = aws_iam_role.adapter.arn
}

output "dead_letters_role_arn" {
  description = "ARN of the dead-letter sink's role: annotate service account culturemesh-dead-letters with eks.amazonaws.com/role-arn."
  value       = aws_iam_role.dead_letters.arn
}

output "catalog_role_arn" {
  description = "ARN of the catalog freshness check's role: annotate service account culturemesh-catalog with eks.amazonaws.com/role-arn."
  value       = aws_iam_role.catalog.arn
}

output "platform_role_arns" {
  description = "The platform Services that seal with a platform key, by principal (\"platform:dead-letters\"): the kms module's platform_role_arns."
  value       = { "platform:dead-letters" = aws_iam_role.dead_letters.arn }
}

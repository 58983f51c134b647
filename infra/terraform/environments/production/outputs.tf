output "bucket_names" {
  description = "The data buckets (landing, products, reports)."
  value       = module.storage.bucket_names
}

output "queue_url" {
  description = "The upload notification queue: the S3 adapter's CULTUREMESH_QUEUE_URL."
  value       = module.storage.queue_url
}

output "registry_table_name" {
  description = "The catalog registry table."
  value       = module.registry.table_name
}

output "function_role_arns" {
  description = "Per product the role its service account dp-<domain>-<name> is annotated with (eks.amazonaws.com/role-arn)."
  value       = module.iam.function_role_arns
}

output "adapter_role_arn" {
  description = "The role the S3 adapter's service account is annotated with."
  value       = module.iam.adapter_role_arn
}

output "key_aliases" {
  description = "Every product key alias (alias/culturemesh/<domain>/<name>[/landing|/<label>])."
  value       = module.kms.aliases
}

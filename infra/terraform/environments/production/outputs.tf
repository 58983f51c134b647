output "bucket_names" {
  description = "The data buckets (landing, products, reports, dead-letters)."
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

output "dead_letters_role_arn" {
  description = "The role the dead-letter sink's service account culturemesh-dead-letters is annotated with."
  value       = module.iam.dead_letters_role_arn
}

output "catalog_role_arn" {
  description = "The role the catalog freshness check's service account culturemesh-catalog is annotated with."
  value       = module.iam.catalog_role_arn
}

output "key_aliases" {
  description = "Every key alias: the products' (alias/culturemesh/<domain>/<name>[/landing|/<label>]) and alias/culturemesh/platform/dead-letters."
  value       = module.kms.aliases
}

output "aliases" {
  description = "Every alias created, keyed by the alias without \"alias/culturemesh/\"."
  value       = { for key, alias in aws_kms_alias.this : key => alias.name }
}

output "key_arns" {
  description = "The ARN of every key, keyed like aliases."
  value       = { for key, k in aws_kms_key.this : key => k.arn }
}

output "product_key_arns" {
  description = "Per product (\"<domain>/<name>\") the ARNs of all its keys: product, landing and classifications."
  value = {
    for id in keys(var.products) : id => [for key, k in local.keys : aws_kms_key.this[key].arn if k.product == id]
  }
}

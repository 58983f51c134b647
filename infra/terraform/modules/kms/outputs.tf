output "aliases" {
  description = "Every alias created, the products' and the platform's (platform/dead-letters), keyed by the alias without \"alias/culturemesh/\"."
  value = merge(
    { for key, alias in aws_kms_alias.this : key => alias.name },
    { for key, alias in aws_kms_alias.platform : key => alias.name },
  )
}

output "key_arns" {
  description = "The ARN of every key, keyed like aliases."
  value = merge(
    { for key, k in aws_kms_key.this : key => k.arn },
    { for key, k in aws_kms_key.platform : key => k.arn },
  )
}

output "platform_key_arns" {
  description = "The platform's keys' ARNs, keyed like aliases (platform/dead-letters)."
  value       = { for key, k in aws_kms_key.platform : key => k.arn }
}

output "product_key_arns" {
  description = "Per product (\"<domain>/<name>\") the ARNs of all its keys: product, landing and classifications."
  value = {
    for id in keys(var.products) : id => [for key, k in local.keys : aws_kms_key.this[key].arn if k.product == id]
  }
}

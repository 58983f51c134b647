# The master keys of every data product, as culturemesh.keys describes them:
#   alias/culturemesh/<domain>/<name>          outputs (Parquet footers, unclassified columns)
#   alias/culturemesh/<domain>/<name>/landing  raw uploads and their reports
#   alias/culturemesh/<domain>/<name>/<label>  columns classified <label>
# with key policies granting the product's functions everything on all of them, its provider the
# landing key, and each consumer Decrypt on the product key and on the classifications it is granted.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  # One entry per key, keyed by the alias without its "alias/culturemesh/" prefix.
  product_keys = {
    for id, p in var.products : "${p.domain}/${p.name}" => { product = id, kind = "product", label = "" }
  }
  landing_keys = {
    for id, p in var.products : "${p.domain}/${p.name}/landing" => { product = id, kind = "landing", label = "" }
  }
  classification_keys = merge({}, [
    for id, p in var.products : {
      for label in p.classifications : "${p.domain}/${p.name}/${label}" => { product = id, kind = "classification", label = label }
    }
  ]...)
  keys = merge(local.product_keys, local.landing_keys, local.classification_keys)

  # What the tests re-derive from the example tfvars: the exact alias of every key.
  aliases = { for key in keys(local.keys) : key => "alias/culturemesh/${key}" }

  # Principal name -> role ARN. A product's own functions are "product:<domain>/<name>".
  principals = merge(
    var.principal_role_arns,
    { for id, arn in var.function_role_arns : "product:${id}" => arn },
  )

  # Who may Decrypt with each key: every consumer of the product on its product key; on a
  # classification key, the consumers granted that label or "*"; on the landing key, none.
  readers = {
    for key, k in local.keys : key => sort([
      for principal, granted in var.products[k.product].consumers : principal
      if k.kind == "product" || (k.kind == "classification" && (contains(granted, "*") || contains(granted, k.label)))
    ])
  }

  # Missing ARNs are left out here and reported by the key's preconditions.
  reader_arns = {
    for key, principals in local.readers : key => distinct(compact([for principal in principals : lookup(local.principals, principal, "")]))
  }

  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
}

resource "aws_kms_key" "this" {
  for_each = local.keys

  description             = "culturemesh ${each.value.kind} key ${each.key}"
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days

  # A key policy: "Resource": "*" means this key. Without the first statement nobody could ever
  # change or delete the key again; it also makes the operators' IAM policies count.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid       = "AccountAdministersKey"
          Effect    = "Allow"
          Principal = { AWS = local.account_root }
          Action    = "kms:*"
          Resource  = "*"
        },
        {
          Sid       = "ProductFunctionsUseKey"
          Effect    = "Allow"
          Principal = { AWS = var.function_role_arns[each.value.product] }
          Action    = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
          Resource  = "*"
        },
      ],
      [
        for arn in compact([lookup(local.principals, "provider:${each.value.product}", "")]) : {
          Sid       = "ProviderSealsUploadsAndReadsReports"
          Effect    = "Allow"
          Principal = { AWS = arn }
          Action    = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
          Resource  = "*"
        } if each.value.kind == "landing"
      ],
      [
        for arns in [local.reader_arns[each.key]] : {
          Sid       = "ConsumersDecrypt"
          Effect    = "Allow"
          Principal = { AWS = arns }
          Action    = ["kms:Decrypt"]
          Resource  = "*"
        } if length(arns) > 0
      ],
    )
  })

  tags = merge(var.tags, {
    "culturemesh:dataproduct" = each.value.product
    "culturemesh:key-kind"    = each.value.kind
  })

  lifecycle {
    precondition {
      condition     = each.value.kind != "landing" || contains(keys(local.principals), "provider:${each.value.product}")
      error_message = "No role ARN for principal provider:${each.value.product} (its landing key needs one): add it to consumer_role_arns (the kms module's principal_role_arns)."
    }
    precondition {
      condition     = alltrue([for principal in local.readers[each.key] : contains(keys(local.principals), principal)])
      error_message = "No role ARN for consumer(s) ${join(", ", [for principal in local.readers[each.key] : principal if !contains(keys(local.principals), principal)])} of ${each.key}: add them to consumer_role_arns (the kms module's principal_role_arns)."
    }
  }
}

resource "aws_kms_alias" "this" {
  for_each = local.aliases

  name          = each.value
  target_key_id = aws_kms_key.this[each.key].key_id
}

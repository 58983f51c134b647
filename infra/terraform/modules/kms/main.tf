# The master keys of every data product, as culturemesh.keys describes them:
#   alias/culturemesh/<domain>/<name>          outputs (Parquet footers, unclassified columns)
#   alias/culturemesh/<domain>/<name>/landing  raw uploads and their reports
#   alias/culturemesh/<domain>/<name>/<label>  columns classified <label>
# with key policies granting the product's functions everything on all of them, its provider the
# landing key, and each consumer Decrypt on the product key and on the classifications it is granted;
# and the platform's own keys (culturemesh.deadletters):
#   alias/culturemesh/platform/dead-letters    events kept by the dead-letter sink
# which only the writing platform Service may seal with and only its readers (the operator) decrypt.

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

  # Principal name -> role ARN. A product's own functions are "product:<domain>/<name>"; the
  # platform's Services "platform:<service>" (var.platform_role_arns).
  principals = merge(
    var.principal_role_arns,
    { for id, arn in var.function_role_arns : "product:${id}" => arn },
    var.platform_role_arns,
  )

  # The platform's keys, keyed like local.keys: who seals with it (Encrypt, GenerateDataKey; it
  # never decrypts) and who may read what was sealed (Decrypt), as principal names.
  platform_keys = {
    "platform/dead-letters" = { writer = "platform:dead-letters", readers = ["operator"] }
  }
  platform_aliases = { for key in keys(local.platform_keys) : key => "alias/culturemesh/${key}" }

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

# ---------------------------------------------------------------------------------------------
# The platform's keys

resource "aws_kms_key" "platform" {
  for_each = local.platform_keys

  description             = "culturemesh platform key ${each.key}"
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days

  # As for the products' keys: the account administers it; then exactly one writer, which seals
  # (a fresh data key per object, or a direct Encrypt) but cannot open what it sealed, and the
  # readers, which can only decrypt.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersKey"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "PlatformServiceSeals"
        Effect    = "Allow"
        Principal = { AWS = lookup(local.principals, each.value.writer, "") }
        Action    = ["kms:Encrypt", "kms:GenerateDataKey"]
        Resource  = "*"
      },
      {
        Sid       = "ReadersDecrypt"
        Effect    = "Allow"
        Principal = { AWS = distinct(compact([for principal in each.value.readers : lookup(local.principals, principal, "")])) }
        Action    = ["kms:Decrypt"]
        Resource  = "*"
      },
    ]
  })

  tags = merge(var.tags, { "culturemesh:key-kind" = "platform" })

  lifecycle {
    precondition {
      condition     = contains(keys(local.principals), each.value.writer)
      error_message = "No role ARN for principal ${each.value.writer} (it seals with ${each.key}): set platform_role_arns (the iam module's platform_role_arns output)."
    }
    precondition {
      condition     = alltrue([for principal in each.value.readers : contains(keys(local.principals), principal)])
      error_message = "No role ARN for ${join(", ", [for principal in each.value.readers : principal if !contains(keys(local.principals), principal)])}, reader of ${each.key}: add it to consumer_role_arns (the kms module's principal_role_arns)."
    }
  }
}

resource "aws_kms_alias" "platform" {
  for_each = local.platform_aliases

  name          = each.value
  target_key_id = aws_kms_key.platform[each.key].key_id
}

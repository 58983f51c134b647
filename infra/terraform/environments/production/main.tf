# culturemesh in production: storage, catalog registry, workload roles, the products' keys and the
# dead-letter key.
# Order of creation: platform key -> storage, registry -> iam (roles) -> kms (key policies name
# the roles, which must exist first).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id   = data.aws_caller_identity.current.account_id
  account_root = "arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"
}

# The platform key: default encryption of the buckets and of the upload notification queues.
# The data itself is also encrypted by culturemesh under each product's own keys (module kms).
resource "aws_kms_key" "platform" {
  description             = "culturemesh platform key: bucket default encryption and notification queues"
  enable_key_rotation     = true
  deletion_window_in_days = var.key_deletion_window_in_days

  # A key policy ("Resource": "*" is this key): the account administers it, and S3 may encrypt the
  # notifications it sends to the KMS-encrypted queue. Everyone else through IAM policies.
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
        Sid       = "S3SendsEncryptedNotifications"
        Effect    = "Allow"
        Principal = { Service = "s3.amazonaws.com" }
        Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  })
}

resource "aws_kms_alias" "platform" {
  name          = "alias/culturemesh-platform/storage"
  target_key_id = aws_kms_key.platform.key_id
}

module "storage" {
  source = "../../modules/storage"

  bucket_prefix              = var.bucket_prefix
  kms_key_arn                = aws_kms_key.platform.arn
  report_retention_days      = var.report_retention_days
  dead_letter_retention_days = var.dead_letter_retention_days
}

module "registry" {
  source = "../../modules/registry"

  table_name              = "${var.bucket_prefix}registry"
  deletion_window_in_days = var.key_deletion_window_in_days
}

module "iam" {
  source = "../../modules/iam"

  products             = var.products
  namespace            = var.namespace
  oidc_provider_arn    = var.oidc_provider_arn
  oidc_provider_url    = var.oidc_provider_url
  bucket_arns          = module.storage.bucket_arns
  storage_kms_key_arn  = aws_kms_key.platform.arn
  queue_arn            = module.storage.queue_arn
  registry_table_arn   = module.registry.table_arn
  registry_kms_key_arn = module.registry.kms_key_arn
}

module "kms" {
  source = "../../modules/kms"

  products                = var.products
  function_role_arns      = module.iam.function_role_arns
  platform_role_arns      = module.iam.platform_role_arns
  principal_role_arns     = var.consumer_role_arns
  deletion_window_in_days = var.key_deletion_window_in_days
}

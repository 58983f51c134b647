# IAM roles for the mesh's workloads on EKS, assumed through IRSA (the pod's projected service
# account token): one per data product for its functions (Knative Services run as service account
# dp-<domain>-<name>), and one for the S3 adapter. KMS use of the product keys is granted by the
# key policies in the kms module, not here.

data "aws_region" "current" {}

locals {
  issuer = trimsuffix(replace(var.oidc_provider_url, "https://", ""), "/")

  functions = {
    for id, p in var.products : id => {
      # As culturemesh.deploy.knative names it: f"dp-{domain}-{name}"[:63]
      service_account = substr("dp-${p.domain}-${p.name}", 0, 63)
      role_name       = "culturemesh-${p.domain}-${p.name}"
      # Products in the mesh whose consumers name this product's functions: it reads their outputs.
      upstreams = sort([for uid, u in var.products : uid if uid != id && contains(keys(u.consumers), "product:${id}")])
    }
  }

  via = {
    dynamodb = "dynamodb.${data.aws_region.current.name}.amazonaws.com"
    s3       = "s3.${data.aws_region.current.name}.amazonaws.com"
    sqs      = "sqs.${data.aws_region.current.name}.amazonaws.com"
  }
}

data "aws_iam_policy_document" "assume" {
  for_each = merge(
    { for id, f in local.functions : id => f.service_account },
    { "s3-adapter" = var.adapter_service_account },
  )

  statement {
    sid     = "ServiceAccountThroughIRSA"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:sub"
      values   = ["system:serviceaccount:${var.namespace}:${each.value}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Functions of each data product

resource "aws_iam_role" "function" {
  for_each = local.functions

  name                 = each.value.role_name
  description          = "culturemesh functions of data product ${each.key} (service account ${var.namespace}/${each.value.service_account})"
  assume_role_policy   = data.aws_iam_policy_document.assume[each.key].json
  max_session_duration = 3600
  tags                 = merge(var.tags, { "culturemesh:dataproduct" = each.key })
}

data "aws_iam_policy_document" "function" {
  for_each = local.functions

  statement {
    sid       = "ReadOwnUploads"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arns["landing"]}/${each.key}/*"]
  }

  statement {
    sid       = "WriteOwnOutputs"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${var.bucket_arns["products"]}/${each.key}/*"]
  }

  statement {
    sid       = "WriteOwnReports"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${var.bucket_arns["reports"]}/${each.key}/*"]
  }

  # ListBucket is also what HeadBucket needs (the store checks its buckets exist), and lets a
  # missing object answer 404 rather than 403. HeadBucket carries no s3:prefix, hence IfExists;
  # a listing always carries one, and only the product's own prefixes match.
  statement {
    sid       = "ListOwnPrefixes"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arns["landing"], var.bucket_arns["products"], var.bucket_arns["reports"]]

    condition {
      test     = "StringLikeIfExists"
      variable = "s3:prefix"
      values   = ["${each.key}/*"]
    }
  }

  dynamic "statement" {
    for_each = length(each.value.upstreams) > 0 ? [each.value.upstreams] : []
    content {
      sid       = "ReadUpstreamOutputs"
      effect    = "Allow"
      actions   = ["s3:GetObject"]
      resources = [for upstream in statement.value : "${var.bucket_arns["products"]}/${upstream}/*"]
    }
  }

  dynamic "statement" {
    for_each = length(each.value.upstreams) > 0 ? [each.value.upstreams] : []
    content {
      sid       = "ListUpstreamOutputs"
      effect    = "Allow"
      actions   = ["s3:ListBucket"]
      resources = [var.bucket_arns["products"]]

      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = [for upstream in statement.value : "${upstream}/*"]
      }
    }
  }

  # Bucket default encryption (SSE-KMS) under the platform key, only through S3.
  statement {
    sid       = "UseStorageKeyThroughS3"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.storage_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.via.s3]
    }
  }

  statement {
    sid       = "ReadCatalog"
    effect    = "Allow"
    actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"]
    resources = [var.registry_table_arn, "${var.registry_table_arn}/index/*"]
  }

  # Writes only to the product's own partition (pk PRODUCT#<domain>/<name>: see the registry module's README).
  statement {
    sid       = "WriteOwnCatalogEntries"
    effect    = "Allow"
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"]
    resources = [var.registry_table_arn]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = ["PRODUCT#${each.key}"]
    }
  }

  # The table's customer-managed key, only through DynamoDB (the key set AWS documents for tables).
  statement {
    sid       = "UseCatalogKeyThroughDynamoDB"
    effect    = "Allow"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"]
    resources = [var.registry_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.via.dynamodb]
    }
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions

  name   = "culturemesh-dataproduct"
  role   = aws_iam_role.function[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}

# ---------------------------------------------------------------------------------------------
# S3 adapter: the only reader of the upload notification queue

resource "aws_iam_role" "adapter" {
  name                 = "culturemesh-s3-adapter"
  description          = "culturemesh S3 adapter: relays upload notifications from SQS to the broker (service account ${var.namespace}/${var.adapter_service_account})"
  assume_role_policy   = data.aws_iam_policy_document.assume["s3-adapter"].json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "adapter" {
  statement {
    sid       = "ReceiveUploadNotifications"
    effect    = "Allow"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [var.queue_arn]
  }

  statement {
    sid       = "DecryptQueueThroughSQS"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [var.storage_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.via.sqs]
    }
  }
}

resource "aws_iam_role_policy" "adapter" {
  name   = "culturemesh-s3-adapter"
  role   = aws_iam_role.adapter.id
  policy = data.aws_iam_policy_document.adapter.json
}

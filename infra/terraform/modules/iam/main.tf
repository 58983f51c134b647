# IAM roles for the mesh's workloads on EKS, assumed through IRSA (the pod's projected service
# account token): one per data product for its functions (Knative Services run as service account
# dp-<domain>-<name>), and one each for the platform's Services: the S3 adapter, the dead-letter
# sink and the catalog's freshness check. KMS use of the product keys and of the dead-letter key
# is granted by the key policies in the kms module, not here.

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
    {
      "s3-adapter"   = var.adapter_service_account
      "dead-letters" = var.dead_letters_service_account
      "catalog"      = var.catalog_service_account
    },
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

# ---------------------------------------------------------------------------------------------
# Dead-letter sink (culturemesh dead-letters): writes the refused events, sealed, and reads nothing

resource "aws_iam_role" "dead_letters" {
  name                 = "culturemesh-dead-letters"
  description          = "culturemesh dead-letter sink: keeps refused events in the dead-letters bucket (service account ${var.namespace}/${var.dead_letters_service_account})"
  assume_role_policy   = data.aws_iam_policy_document.assume["dead-letters"].json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "dead_letters" {
  # Put only: the sink never reads, lists or deletes what it kept (the operator does, by its own role).
  statement {
    sid       = "KeepDeadLetters"
    effect    = "Allow"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${var.bucket_arns["dead-letters"]}/*"]
  }

  # HeadBucket (the store checks the bucket exists before its first put) is authorised by
  # s3:ListBucket; it carries no s3:prefix, and a listing that names a prefix is refused. (A
  # listing without one cannot be told apart from HeadBucket by IAM: it shows keys, not contents.)
  statement {
    sid       = "FindDeadLetterBucket"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arns["dead-letters"]]

    condition {
      test     = "Null"
      variable = "s3:prefix"
      values   = ["true"]
    }
  }

  # Bucket default encryption (SSE-KMS) under the platform key, only through S3 (Decrypt: the
  # multipart upload of a large event).
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
}

resource "aws_iam_role_policy" "dead_letters" {
  name   = "culturemesh-dead-letters"
  role   = aws_iam_role.dead_letters.id
  policy = data.aws_iam_policy_document.dead_letters.json
}

# ---------------------------------------------------------------------------------------------
# Catalog freshness check (culturemesh catalog serve-check): reads the registry, writes stale marks
#
# What DynamoDB's IAM can and cannot say here (registry module README for the item layout):
# - dynamodb:LeadingKeys is the request's partition key value(s), on the table or on an index.
#   Listing the products is a Query of gsi1 with gsi1pk = CATALOG, so that Query is held to
#   exactly CATALOG; every table item's pk is PRODUCT#<id>, so on the table PRODUCT#* is all
#   IAM can require: it keeps the role out of any other partition, not out of any product's.
# - IAM has no condition on the sort key (sk), nor on a request's ConditionExpression. The role
#   cannot be held to STALE#* items by key: it is held to their shape instead. dynamodb:Attributes
#   (the item's top-level attribute names on PutItem) allows only pk, sk, due and emitted, the
#   attributes of a stale mark; every other item carries its record JSON in `record`, so the role
#   can never create or rewrite a product, port, version, subscription or edge. What remains:
#   a PutItem or DeleteItem with another item's key could replace that item by a stale-mark-shaped
#   one or delete it. The code only ever writes STALE# keys, conditionally (attribute_not_exists).
# - No UpdateItem, BatchWriteItem, TransactWriteItems or Scan: the check makes none of those calls.

resource "aws_iam_role" "catalog" {
  name                 = "culturemesh-catalog"
  description          = "culturemesh catalog freshness check: reads the registry, claims stale marks (service account ${var.namespace}/${var.catalog_service_account})"
  assume_role_policy   = data.aws_iam_policy_document.assume["catalog"].json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "catalog" {
  statement {
    sid       = "ListProducts"
    effect    = "Allow"
    actions   = ["dynamodb:Query"]
    resources = ["${var.registry_table_arn}/index/gsi1"]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = ["CATALOG"]
    }
  }

  statement {
    sid       = "ReadProductPartitions"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem", "dynamodb:Query"]
    resources = [var.registry_table_arn]

    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["PRODUCT#*"]
    }
  }

  statement {
    sid       = "ClaimAndReleaseStaleMarks"
    effect    = "Allow"
    actions   = ["dynamodb:PutItem", "dynamodb:DeleteItem"]
    resources = [var.registry_table_arn]

    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["PRODUCT#*"]
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:Attributes"
      values   = ["pk", "sk", "due", "emitted"]
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

resource "aws_iam_role_policy" "catalog" {
  name   = "culturemesh-catalog"
  role   = aws_iam_role.catalog.id
  policy = data.aws_iam_policy_document.catalog.json
}

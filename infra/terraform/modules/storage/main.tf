# The mesh's object storage: landing (raw uploads), products (output port versions), reports
# (rejection and quarantine reports), dead-letters (events the dead-letter sink kept), each
# SSE-KMS under the platform key, versioned, private, TLS-only and access-logged; plus the queue
# S3 notifies of every upload for the S3 adapter. Objects in landing, reports and dead-letters are
# also sealed, and product files encrypted, by culturemesh itself under their own keys (a
# product's, or alias/culturemesh/platform/dead-letters): bucket encryption is the second layer.

data "aws_caller_identity" "current" {}

locals {
  data_buckets = {
    landing  = "${var.bucket_prefix}landing"
    products = "${var.bucket_prefix}products"
    reports  = "${var.bucket_prefix}reports"
    # culturemesh.deadletters.BUCKET: what Triggers' subscribers refused after every retry
    "dead-letters" = "${var.bucket_prefix}dead-letters"
  }
  # Buckets whose current objects expire, and after how many days.
  expiring = {
    reports        = var.report_retention_days
    "dead-letters" = var.dead_letter_retention_days
  }
  log_bucket = "${var.bucket_prefix}access-logs"
}

# ---------------------------------------------------------------------------------------------
# Data buckets

resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV_AWS_144:No cross-region replication: the data of Flemish cultural institutions stays in the one region the operator chose (data residency); versioning and noncurrent versions cover accidental deletes and overwrites.
  #checkov:skip=CKV2_AWS_62:Only landing needs S3 notifications (to the SQS queue below, for the S3 adapter); products and reports are written by the functions, which announce every new version as a CloudEvent themselves, and dead-letters is read by an operator when investigating.
  for_each = local.data_buckets

  bucket = each.value
  tags   = merge(var.tags, { "culturemesh:bucket" = each.key })
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.data[each.key].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # One data key per bucket instead of a KMS call per object: far fewer requests and cost.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.data[each.key].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  for_each = local.data_buckets

  bucket                  = aws_s3_bucket.data[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.data[each.key].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_logging" "data" {
  for_each = local.data_buckets

  bucket        = aws_s3_bucket.data[each.key].id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "${each.key}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.data[each.key].id

  rule {
    id     = "retention"
    status = "Enabled"

    filter {}

    # reports and dead-letters: their objects expire (local.expiring); elsewhere the current
    # version stays and only the delete markers left behind by noncurrent expiry are cleaned up.
    expiration {
      days                         = lookup(local.expiring, each.key, null)
      expired_object_delete_marker = contains(keys(local.expiring), each.key) ? null : true
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.incomplete_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.data]
}

data "aws_iam_policy_document" "data_bucket" {
  for_each = local.data_buckets

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.data[each.key].arn,
      "${aws_s3_bucket.data[each.key].arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.data[each.key].id
  policy = data.aws_iam_policy_document.data_bucket[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.data]
}

resource "aws_s3_bucket_notification" "landing" {
  bucket = aws_s3_bucket.data["landing"].id

  queue {
    id        = "uploads-to-s3-adapter"
    queue_arn = aws_sqs_queue.landing_events.arn
    events    = ["s3:ObjectCreated:*"]
  }

  depends_on = [aws_sqs_queue_policy.landing_events]
}

# ---------------------------------------------------------------------------------------------
# Access log bucket

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_144:No cross-region replication: access logs stay in the region of the data they describe (data residency).
  #checkov:skip=CKV_AWS_18:This is the access log target; logging it into itself would log every log write, and logging it elsewhere only moves the question.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to new access log objects; they are read when investigating.
  #checkov:skip=CKV_AWS_145:S3 server access logging can only deliver to a target bucket encrypted with SSE-S3 (AES256), not SSE-KMS.
  bucket = local.log_bucket
  tags   = merge(var.tags, { "culturemesh:bucket" = "access-logs" })
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "retention"
    status = "Enabled"

    filter {}

    expiration {
      days = var.log_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.incomplete_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.logs]
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # With BucketOwnerEnforced there are no ACLs: the logging service writes by this grant, and only
  # for the data buckets of this account.
  statement {
    sid       = "S3ServerAccessLogsDelivery"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [for bucket in aws_s3_bucket.data : bucket.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# ---------------------------------------------------------------------------------------------
# Upload notifications: landing -> SQS -> culturemesh s3-adapter -> broker

resource "aws_sqs_queue" "landing_events_dlq" {
  name                              = "${var.bucket_prefix}landing-events-dlq"
  message_retention_seconds         = 1209600 # 14 days, the maximum: time to look at what failed
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = var.tags
}

resource "aws_sqs_queue" "landing_events" {
  name                              = "${var.bucket_prefix}landing-events"
  message_retention_seconds         = 345600 # 4 days
  receive_wait_time_seconds         = 20     # the adapter long-polls
  visibility_timeout_seconds        = 120
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = var.tags

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.landing_events_dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "landing_events_dlq" {
  queue_url = aws_sqs_queue.landing_events_dlq.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.landing_events.arn]
  })
}

data "aws_iam_policy_document" "landing_events" {
  statement {
    sid       = "LandingBucketSendsNotifications"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.landing_events.arn]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.data["landing"].arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.landing_events.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "landing_events" {
  queue_url = aws_sqs_queue.landing_events.id
  policy    = data.aws_iam_policy_document.landing_events.json
}

# The catalog registry: one DynamoDB table (single-table design, see README.md) holding products,
# ports, versions, subscriptions and lineage edges, encrypted under its own customer-managed key.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

resource "aws_kms_key" "table" {
  description             = "culturemesh catalog registry table ${var.table_name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days

  # A key policy ("Resource": "*" is this key): the account administers it, and callers use it
  # through their IAM policies, only via DynamoDB (the iam module adds kms:ViaService). DynamoDB
  # itself describes the key and its grants, as in AWS's documented key policy for tables.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "DynamoDBReadsKeyMetadata"
        Effect    = "Allow"
        Principal = { Service = "dynamodb.amazonaws.com" }
        Action    = ["kms:DescribeKey", "kms:ListGrants"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
      },
    ]
  })
  tags                    = var.tags
}

resource "aws_kms_alias" "table" {
  name          = "alias/culturemesh-registry/${var.table_name}"
  target_key_id = aws_kms_key.table.key_id
}

resource "aws_dynamodb_table" "registry" {
  name                        = var.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = true

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "gsi1pk"
    type = "S"
  }

  attribute {
    name = "gsi1sk"
    type = "S"
  }

  # The inverted index: all products, a product's downstream lineage, a consumer's subscriptions.
  global_secondary_index {
    name            = "gsi1"
    hash_key        = "gsi1pk"
    range_key       = "gsi1sk"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.table.arn
  }

  tags = var.tags
}

variable "bucket_prefix" {
  description = "Prefix of every bucket name: the buckets are <prefix>landing, <prefix>products, <prefix>reports (CULTUREMESH_BUCKET_PREFIX) and <prefix>access-logs."
  type        = string
  default     = "culturemesh-"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{0,40}$", var.bucket_prefix))
    error_message = "bucket_prefix must be 1-41 lowercase letters, digits, dots or hyphens, starting with a letter or digit (S3 bucket naming)."
  }
}

variable "kms_key_arn" {
  description = <<-EOT
    ARN of the platform KMS key for the buckets' default encryption (SSE-KMS) and the event queues.
    Its key policy must let s3.amazonaws.com use kms:GenerateDataKey and kms:Decrypt, or S3 cannot
    deliver notifications to the encrypted queue.
  EOT
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias."
  }
}

variable "report_retention_days" {
  description = "Days after which rejection and quarantine reports in the reports bucket expire."
  type        = number
  default     = 90

  validation {
    condition     = var.report_retention_days >= 1
    error_message = "report_retention_days must be at least 1."
  }
}

variable "dead_letter_retention_days" {
  description = "Days after which the events kept by the dead-letter sink (dead-letters bucket) expire."
  type        = number
  default     = 180

  validation {
    condition     = var.dead_letter_retention_days >= 1
    error_message = "dead_letter_retention_days must be at least 1."
  }
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted object version is kept before it expires (all buckets)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_days >= 1
    error_message = "noncurrent_version_days must be at least 1."
  }
}

variable "log_retention_days" {
  description = "Days S3 server access logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = var.log_retention_days >= 1
    error_message = "log_retention_days must be at least 1."
  }
}

variable "incomplete_upload_days" {
  description = "Days after which unfinished multipart uploads are aborted (their parts cost money and are invisible)."
  type        = number
  default     = 7

  validation {
    condition     = var.incomplete_upload_days >= 1
    error_message = "incomplete_upload_days must be at least 1."
  }
}

variable "max_receive_count" {
  description = "How often the S3 adapter may receive a notification without deleting it before it goes to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be between 1 and 1000."
  }
}

variable "tags" {
  description = "Tags added to every bucket and queue."
  type        = map(string)
  default     = {}
}

output "bucket_names" {
  description = "The data buckets' names, keyed by culturemesh bucket (landing, products, reports, dead-letters)."
  value       = { for key, bucket in aws_s3_bucket.data : key => bucket.bucket }
}

output "bucket_arns" {
  description = "The data buckets' ARNs, keyed by culturemesh bucket (landing, products, reports, dead-letters)."
  value       = { for key, bucket in aws_s3_bucket.data : key => bucket.arn }
}

output "log_bucket_name" {
  description = "The bucket receiving the data buckets' server access logs."
  value       = aws_s3_bucket.logs.bucket
}

output "queue_url" {
  description = "URL of the queue S3 notifies of uploads: the S3 adapter's CULTUREMESH_QUEUE_URL."
  value       = aws_sqs_queue.landing_events.id
}

output "queue_arn" {
  description = "ARN of the upload notification queue."
  value       = aws_sqs_queue.landing_events.arn
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue for notifications the adapter could not relay."
  value       = aws_sqs_queue.landing_events_dlq.arn
}

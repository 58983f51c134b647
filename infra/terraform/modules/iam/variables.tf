variable "products" {
  description = "The data products, keyed by \"<domain>/<name>\", in the shape `culturemesh build terraform` writes (see the kms module)."
  type = map(object({
    domain          = string
    name            = string
    ports           = list(string)
    classifications = list(string)
    consumers       = map(list(string))
  }))

  validation {
    condition     = alltrue([for id, p in var.products : id == "${p.domain}/${p.name}"])
    error_message = "Each key of products must be \"<domain>/<name>\" of its value."
  }

  validation {
    condition     = alltrue([for p in var.products : length("culturemesh-${p.domain}-${p.name}") <= 64])
    error_message = "culturemesh-<domain>-<name> must fit the 64 characters of an IAM role name."
  }
}

variable "namespace" {
  description = "Kubernetes namespace of the functions and the S3 adapter."
  type        = string
  default     = "culturemesh"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a Kubernetes namespace name (DNS-1123 label)."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider (arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN."
  }
}

variable "oidc_provider_url" {
  description = "Issuer URL of the EKS cluster's OIDC provider, with or without https:// (oidc.eks.<region>.amazonaws.com/id/<id>)."
  type        = string

  validation {
    condition     = can(regex("^(https://)?[^/]+(/.+)?$", var.oidc_provider_url))
    error_message = "oidc_provider_url must be the cluster's OIDC issuer, for example https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE."
  }
}

variable "adapter_service_account" {
  description = "Service account of the S3 adapter Deployment (knative/cluster/s3-adapter.yaml)."
  type        = string
  default     = "culturemesh-s3-adapter"
}

variable "dead_letters_service_account" {
  description = "Service account of the dead-letter sink's Service culturemesh-dead-letters (knative/broker.yaml)."
  type        = string
  default     = "culturemesh-dead-letters"
}

variable "catalog_service_account" {
  description = "Service account of the catalog freshness check's Service culturemesh-catalog (knative/cluster/catalog-check.yaml)."
  type        = string
  default     = "culturemesh-catalog"
}

variable "bucket_arns" {
  description = "ARNs of the data buckets, keyed landing, products, reports, dead-letters (the storage module's bucket_arns)."
  type        = map(string)

  validation {
    condition     = alltrue([for bucket in ["landing", "products", "reports", "dead-letters"] : contains(keys(var.bucket_arns), bucket)])
    error_message = "bucket_arns must have landing, products, reports and dead-letters."
  }
}

variable "storage_kms_key_arn" {
  description = "ARN of the platform key encrypting the buckets (SSE-KMS) and the notification queue."
  type        = string
}

variable "queue_arn" {
  description = "ARN of the queue S3 notifies of uploads (read by the S3 adapter only)."
  type        = string
}

variable "registry_table_arn" {
  description = "ARN of the catalog registry table."
  type        = string
}

variable "registry_kms_key_arn" {
  description = "ARN of the key encrypting the catalog registry table."
  type        = string
}

variable "tags" {
  description = "Tags added to every role."
  type        = map(string)
  default     = {}
}

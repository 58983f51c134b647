# products comes from culturemesh.auto.tfvars.json, which `culturemesh build terraform` writes
# from the data product descriptors; everything else from the operator's own tfvars
# (see operator.tfvars.example).

variable "products" {
  description = <<-EOT
    The data products, keyed by "<domain>/<name>": their output ports, their column
    classifications, and per consumer principal the classifications it may read (["*"]: all;
    []: only the product key). Generated: do not edit by hand.
  EOT
  type = map(object({
    domain          = string
    name            = string
    ports           = list(string)
    classifications = list(string)
    consumers       = map(list(string))
  }))

  validation {
    condition     = alltrue([for id, p in var.products : id == "${p.domain}/${p.name}"])
    error_message = "Each key of products must be \"<domain>/<name>\" of its value: regenerate with `culturemesh build terraform`."
  }

  validation {
    condition = alltrue(flatten([
      for p in var.products : [for part in concat([p.domain, p.name], p.classifications) : can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", part))]
    ]))
    error_message = "Domains, names and classification labels must be lowercase letters, digits and inner hyphens (they become KMS alias segments)."
  }

  validation {
    condition     = alltrue([for p in var.products : !contains(p.classifications, "landing")])
    error_message = "\"landing\" cannot be a classification label: alias/culturemesh/<domain>/<name>/landing is the landing key."
  }

  validation {
    condition = alltrue(flatten([
      for p in var.products : [for granted in values(p.consumers) : [for label in granted : label == "*" || contains(p.classifications, label)]]
    ]))
    error_message = "A consumer may only be granted \"*\" or classifications its product declares."
  }
}

variable "consumer_role_arns" {
  description = <<-EOT
    IAM role ARN of every principal outside the mesh's own functions: each consumer named in
    products' consumers, each product's provider as "provider:<domain>/<name>", and "operator"
    (who may decrypt the dead letters, alias/culturemesh/platform/dead-letters). Consumers
    "product:<domain>/<name>" of products in this mesh need no entry: they are that product's
    function role.
  EOT
  type        = map(string)

  validation {
    condition     = alltrue([for arn in values(var.consumer_role_arns) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", arn))])
    error_message = "consumer_role_arns values must be IAM role ARNs (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "bucket_prefix" {
  description = "Prefix of the bucket names: <prefix>landing, <prefix>products, <prefix>reports (CULTUREMESH_BUCKET_PREFIX)."
  type        = string
  default     = "culturemesh-"
}

variable "region" {
  description = "AWS region of everything (CULTUREMESH_AWS_REGION)."
  type        = string
  default     = "eu-west-1"
}

variable "oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider, for IRSA."
  type        = string
}

variable "oidc_provider_url" {
  description = "Issuer URL of the EKS cluster's OIDC provider (https://oidc.eks.<region>.amazonaws.com/id/<id>)."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of the culturemesh functions and the S3 adapter."
  type        = string
  default     = "culturemesh"
}

variable "report_retention_days" {
  description = "Days after which rejection and quarantine reports expire."
  type        = number
  default     = 90
}

variable "dead_letter_retention_days" {
  description = "Days after which the events kept by the dead-letter sink expire."
  type        = number
  default     = 180
}

variable "key_deletion_window_in_days" {
  description = "Days a deleted KMS key waits before its material is destroyed (7-30)."
  type        = number
  default     = 30
}

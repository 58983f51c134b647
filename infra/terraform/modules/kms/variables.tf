variable "products" {
  description = <<-EOT
    The data products, keyed by "<domain>/<name>" (as `culturemesh build terraform` writes them):
    their output ports, the column classifications they declare, and per consumer principal the
    classifications it may read (["*"]: all of them; []: only the product key).
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
    error_message = "Each key of products must be \"<domain>/<name>\" of its value."
  }

  validation {
    condition = alltrue(flatten([
      for p in var.products : [for part in concat([p.domain, p.name], p.classifications) : can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", part))]
    ]))
    error_message = "Domains, names and classification labels must be lowercase letters, digits and inner hyphens (they become KMS alias segments)."
  }

  validation {
    condition     = alltrue([for id in keys(var.products) : !contains(["platform/dead-letters"], id)])
    error_message = "platform/dead-letters is the platform's dead-letter key (alias/culturemesh/platform/dead-letters), not a product."
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

variable "function_role_arns" {
  description = "The IAM role of each product's functions, keyed like products (\"<domain>/<name>\"): principal product:<domain>/<name>."
  type        = map(string)

  validation {
    condition     = alltrue([for arn in values(var.function_role_arns) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", arn))])
    error_message = "function_role_arns values must be IAM role ARNs."
  }
}

variable "principal_role_arns" {
  description = <<-EOT
    The IAM role ARN of every principal outside the mesh's functions: each consumer named in a
    product's consumers, and each product's provider as "provider:<domain>/<name>". A consumer
    "product:<domain>/<name>" of a product in var.products resolves to that product's function role.
  EOT
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for arn in values(var.principal_role_arns) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", arn))])
    error_message = "principal_role_arns values must be IAM role ARNs."
  }
}

variable "platform_role_arns" {
  description = <<-EOT
    The IAM role ARN of each platform Service that seals with a platform key, keyed by principal
    "platform:<service>" (the iam module's platform_role_arns output): "platform:dead-letters".
  EOT
  type        = map(string)

  validation {
    condition     = alltrue([for principal, arn in var.platform_role_arns : startswith(principal, "platform:") && can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", arn))])
    error_message = "platform_role_arns maps \"platform:<service>\" to an IAM role ARN."
  }
}

variable "deletion_window_in_days" {
  description = "Days a deleted key waits before its material is destroyed (7-30). Deleting a key makes everything sealed under it unreadable."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags added to every key."
  type        = map(string)
  default     = {}
}

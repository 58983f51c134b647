variable "table_name" {
  description = "Name of the catalog registry table."
  type        = string
  default     = "culturemesh-registry"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.table_name))
    error_message = "table_name must be 3-255 letters, digits, underscores, dots or hyphens (DynamoDB naming)."
  }
}

variable "deletion_window_in_days" {
  description = "Days the table's KMS key waits before its material is destroyed once deleted (7-30)."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags added to the table and its key."
  type        = map(string)
  default     = {}
}

terraform {
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # State holds resource IDs and ARNs (never secret values: see the secrets module). Keep it in an
  # encrypted, versioned bucket of the same account; the tests run with -backend=false.
  # backend "s3" {
  #   bucket       = "<account>-terraform-state"
  #   key          = "creditlake/prod/terraform.tfstate"
  #   region       = "<region>"
  #   encrypt      = true
  #   kms_key_id   = "<state key ARN>"
  #   use_lockfile = true
  # }
}

provider "aws" {
  region = var.region
  # A plan for this environment can never touch another account by mistake.
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = merge(var.tags, {
      Project     = "creditlake"
      Environment = var.environment
      ManagedBy   = "terraform"
      DataClass   = "personal-financial-information"
    })
  }
}

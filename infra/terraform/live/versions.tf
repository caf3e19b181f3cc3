terraform {
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # State holds resource IDs and ARNs (never secret values: see the secrets module). Keep it in an
  # encrypted, versioned bucket of the same account; the tests run with -backend=false. Each
  # environment's settings (bucket, key, region, state key, locking) are in
  # ../envs/<env>.s3.tfbackend: uncomment the block and run
  #   terraform init -backend-config=../envs/<env>.s3.tfbackend
  # backend "s3" {}
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

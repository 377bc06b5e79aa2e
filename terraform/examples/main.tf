# A CI job's identity, managed as code: a service account, a client secret
# Terraform owns (rotated whenever var.secret_generation changes), and a
# private API token for the job's deploy step.
#
#   export TOLLGATE_SERVER=https://tollgate.example.com
#   export TOLLGATE_TOKEN=tgc_…   # a "tollgate login" credential of a super admin of acme
#   terraform init && terraform apply
#   terraform output -raw client_secret   # hand it to the CI system's secret store
#
# The state holds the secret and the token: keep it in an encrypted backend.

terraform {
  required_providers {
    tollgate = {
      source = "tollgate/tollgate"
    }
  }
}

variable "secret_generation" {
  description = "Change to rotate the client secret."
  type        = string
  default     = "1"
}

provider "tollgate" {
  # server and token come from TOLLGATE_SERVER and TOLLGATE_TOKEN.
  organization = "acme"
}

resource "tollgate_service_account" "ci" {
  name              = "ci-runner"
  description       = "CI pipeline of acme/app"
  role              = "member"
  token_ttl_seconds = 3600
}

# Creating this rotates the account's secret: the secret returned when the
# account was created is discarded, and this one is Terraform's. The old
# secret keeps working for an hour after each rotation, so running jobs
# finish.
resource "tollgate_service_account_secret" "ci" {
  service_account_id   = tollgate_service_account.ci.id
  grace_period_seconds = 3600
  keepers = {
    generation = var.secret_generation
  }
}

resource "tollgate_api_token" "deploy" {
  name               = "ci-deploy"
  description        = "deploy step of the CI pipeline"
  service_account_id = tollgate_service_account.ci.id
  kind               = "private"
}

output "token_endpoint" {
  value = tollgate_service_account.ci.token_endpoint
}

output "client_id" {
  value = tollgate_service_account_secret.ci.client_id
}

output "client_secret" {
  value     = tollgate_service_account_secret.ci.client_secret
  sensitive = true
}

output "api_token" {
  value     = tollgate_api_token.deploy.token
  sensitive = true
}

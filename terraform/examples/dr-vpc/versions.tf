terraform {
  required_version = ">= 1.5.0"

  # Remote state in the DR VPC's own object storage (S3-compatible, e.g. Ceph RGW on 深证云): the
  # state then survives the build host and two operators cannot apply at once. Uncomment, then
  # `terraform init -migrate-state`. Keys come from the environment (AWS_ACCESS_KEY_ID /
  # AWS_SECRET_ACCESS_KEY) or -backend-config=backend.hcl, never from this file. The skip_* flags
  # turn off what only AWS answers (STS, IAM, the EC2 metadata service, region names, the
  # account id); use_lockfile (Terraform >= 1.10) locks with a .tflock object written with
  # If-None-Match, which the store must support (Ceph RGW 19 and MinIO do); on an older store,
  # drop it and apply from one place only. README.md, "Remote state".
  #
  # backend "s3" {
  #   bucket                      = "nqgw-dr-tfstate"
  #   key                         = "dr-vpc/terraform.tfstate"
  #   region                      = "us-east-1"
  #   endpoints                   = { s3 = "https://10.90.0.10" }
  #   use_path_style              = true
  #   skip_credentials_validation = true
  #   skip_region_validation      = true
  #   skip_requesting_account_id  = true
  #   skip_metadata_api_check     = true
  #   skip_s3_checksum            = true
  #   use_lockfile                = true
  # }

  required_providers {
    openstack = {
      source  = "terraform-provider-openstack/openstack"
      version = ">= 2.1.0, < 4.0.0"
    }
  }
}

# Credentials come from clouds.yaml (OS_CLOUD) or the OS_* environment of the 深证云 project.
provider "openstack" {
  cloud = var.cloud
}

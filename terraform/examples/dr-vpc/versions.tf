terraform {
  required_version = ">= 1.5.0"

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

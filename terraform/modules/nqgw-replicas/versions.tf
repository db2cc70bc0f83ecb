terraform {
  # optional() object attributes need 1.3, strcontains() 1.5.
  required_version = ">= 1.5.0"

  required_providers {
    openstack = {
      source  = "terraform-provider-openstack/openstack"
      version = ">= 2.1.0, < 4.0.0"
    }
  }
}

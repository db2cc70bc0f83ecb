variable "cloud" {
  type        = string
  description = "Entry of clouds.yaml for the broker's 深证云 DR project."
  default     = "szcloud-dr"
}

variable "network_name" {
  type        = string
  description = "Name of the DR VPC network (created through the cloud's management platform, 云管平台)."
  default     = "dr-vpc"
}

variable "subnet_name" {
  type        = string
  description = "Name of the DR subnet the gateway replicas live in."
  default     = "dr-gateway"
}

variable "image_name" {
  type        = string
  description = "Appliance image built by image/nqgw.pkr.hcl."
  default     = "nqgw-dr-debian12-0.1.0"
}

variable "key_pair" {
  type        = string
  description = "Nova key pair of the operators (used through the bastion)."
  default     = "dr-ops"
}

variable "bastion_cidr" {
  type        = string
  description = "The bastion (堡垒机) address as a /32."
  default     = "10.80.0.10/32"
}

variable "management_cidr" {
  type        = string
  description = "The DR site's management network."
  default     = "10.80.2.0/24"
}

variable "time_servers" {
  type        = list(string)
  description = "深证云 network time servers."
  default     = ["10.255.0.1", "10.255.0.2"]
}

variable "resolvers" {
  type        = list(string)
  description = "DNS resolvers of the DR VPC."
  default     = ["10.80.0.2"]
}

variable "object_storage_cidrs" {
  type        = list(string)
  description = "Object storage endpoint range for log shipping."
  default     = ["10.90.0.0/24"]
}

variable "counter_share_address" {
  type        = string
  description = "IPv4 address of the broker's file server that publishes the counter's share (SMB)."
  default     = "10.80.4.20"
}

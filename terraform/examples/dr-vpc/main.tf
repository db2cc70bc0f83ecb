# A DR VPC on 深证云 with two NEEQ trading-gateway replicas: gw-a (active at cutover) and gw-b
# (standby, never sends), on different hypervisors, each with its own EKey over USB/IP.
data "openstack_networking_network_v2" "dr" {
  name = var.network_name
}

data "openstack_networking_subnet_v2" "gateway" {
  name       = var.subnet_name
  network_id = data.openstack_networking_network_v2.dr.id
}

module "nqgw" {
  source = "../../modules/nqgw-replicas"

  name_prefix = "nqgw-dr"
  network_id  = data.openstack_networking_network_v2.dr.id
  subnet_id   = data.openstack_networking_subnet_v2.gateway.id
  image_name  = var.image_name
  flavor_name = "4C8G"
  key_pair    = var.key_pair

  replicas = {
    gw-a = {
      role     = "active"
      station  = "W888888T"
      fixed_ip = "10.80.1.11"
      usbip    = { server = "10.80.3.5", busid = "1-1" }
    }
    gw-b = {
      role     = "standby"
      station  = "W888888T"
      fixed_ip = "10.80.1.12"
      usbip    = { server = "10.80.3.5", busid = "1-2" }
    }
  }

  bastion_cidr         = var.bastion_cidr
  management_cidr      = var.management_cidr
  management_port      = 9300
  time_servers         = var.time_servers
  resolvers            = var.resolvers
  object_storage_cidrs = var.object_storage_cidrs
  tw_template          = "cloud-production"

  # Each replica's state (/var/lib/nqgw) on its own 100 GB Cinder volume (prevent_destroy).
  state_volume = { size_gb = 100 }

  # The counter's interface directory, published by the broker's counter as an SMB share: both
  # replicas mount it at /srv/counter, and tw.ini's orders/returns point there. The password is
  # in /etc/nqgw/secrets/counter-share.cred on each replica, placed through the bastion.
  counter_share = {
    protocol = "cifs"
    address  = var.counter_share_address
    path     = "counter"
  }

  # Flat template values (nqgw config render); station, management_listen and time_servers
  # are filled in per replica by the module, orders and returns by counter_share. No secret is
  # a value: the PIN, the object-storage keys and the CA are files placed through the bastion.
  appliance_values = {
    units                                 = ["729900"]
    tls_mode                              = "ekey"
    tls_ca                                = "/etc/nqgw/secrets/mainstation-ca.pem"
    ekey_module                           = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
    ekey_token_label                      = "W888888T"
    ekey_key_id                           = "01"
    ekey_pin_file                         = "/etc/nqgw/ekey.pin"
    object_storage_endpoint               = "https://10.90.0.10"
    object_storage_bucket                 = "nqgw-logs"
    object_storage_access_key_id_file     = "/etc/nqgw/secrets/s3-access-key-id"
    object_storage_secret_access_key_file = "/etc/nqgw/secrets/s3-secret-access-key"
  }
}

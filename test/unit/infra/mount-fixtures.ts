/** host.json's counter_share and state_volume, exactly as the Terraform module writes them. */
export const CIFS_SHARE = {
  protocol: 'cifs',
  source: '//10.0.2.2/counter',
  mount_point: '/srv/counter',
  credentials_file: '/etc/nqgw/secrets/counter-share.cred',
};
export const NFS_SHARE = {
  protocol: 'nfs',
  source: '10.80.4.20:/export/counter',
  mount_point: '/srv/counter',
};
export const STATE_VOLUME = { device: '/dev/disk/by-id/virtio-0f1e2d3c-4b5a-6978-8' };

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { evaluate, makeHarness, STAND_IN_VOLUME_ID, TERRAFORM_BIN } from '../../unit/infra/tf-console.js';
import { renderUserData } from '../../unit/infra/user-data-template.js';
import { mustRun } from './run.js';

/** One replica as terraform/modules/nqgw-replicas takes it (var.replicas[NAME]), plus its volume id. */
export interface ReplicaSpec {
  name: string;
  station: string;
  fixedIp: string;
  /** Stands in for the Cinder volume's ID: the guest sees the volume as virtio-<first 20>. */
  volumeId: string;
}

/** The module's variables this test sets (the rest keep the module's defaults). */
export interface ModuleVars {
  namePrefix: string;
  twTemplate: string;
  bastionCidr: string;
  managementCidr: string;
  managementPort: number;
  sshUsers: string[];
  mainStationLinks: { name: string; address: string; port: number }[];
  timeServers: string[];
  resolvers: string[];
  objectStorageCidrs: string[];
  metadataService: boolean;
  appliance: Record<string, unknown>;
  counterShare: {
    protocol: 'cifs';
    address: string;
    path: string;
    mountPoint: string;
    credentialsFile: string;
  };
  stateDevicePrefix: string;
}

/**
 * The module's variables for the site in a box. qemu's user-mode network: the host (bastion,
 * share, main station, time server) is 10.0.2.2, its DNS 10.0.2.3; the object store 10.0.2.4
 * does not exist (log shipping has nowhere to go).
 */
export function siteVars(o: {
  namePrefix: string;
  simPort: number;
  unit: string;
  tlsDir: string;
  serverName: string;
  mountPoint: string;
  credentialsFile: string;
}): ModuleVars {
  return {
    namePrefix: o.namePrefix,
    twTemplate: 'cloud-test',
    bastionCidr: '10.0.2.2/32',
    managementCidr: '10.0.2.0/24',
    managementPort: 9300,
    sshUsers: ['debian'],
    mainStationLinks: [{ name: '模拟', address: '10.0.2.2', port: o.simPort }],
    timeServers: ['10.0.2.2'],
    resolvers: ['10.0.2.3'],
    objectStorageCidrs: ['10.0.2.4/32'],
    metadataService: false,
    appliance: {
      units: [o.unit],
      tls_mode: 'file',
      tls_ca: `${o.tlsDir}/ca.pem`,
      tls_cert: `${o.tlsDir}/station.pem`,
      tls_key: `${o.tlsDir}/station.key`,
      tls_server_name: o.serverName,
      object_storage_endpoint: 'https://10.0.2.4',
      object_storage_bucket: 'nqgw-logs',
    },
    counterShare: {
      protocol: 'cifs',
      address: '10.0.2.2',
      path: 'counter',
      mountPoint: o.mountPoint,
      credentialsFile: o.credentialsFile,
    },
    stateDevicePrefix: '/dev/disk/by-id/virtio-',
  };
}

/**
 * values.json and host.json of one replica, built as the module's locals build them
 * (terraform/modules/nqgw-replicas/main.tf: appliance_values, counter_share_host, share_values,
 * host_values): used only where terraform is not installed (see renderUserDataAll).
 */
export function moduleDocuments(v: ModuleVars, r: ReplicaSpec): { values: object; host: object } {
  const s = v.counterShare;
  const values = {
    time_servers: v.timeServers,
    ...v.appliance,
    orders: `${s.mountPoint}/NQWT.DBF`,
    returns: `${s.mountPoint}/NQHB.DBF`,
    share_mount_point: s.mountPoint,
    station: r.station,
    management_listen: `${r.fixedIp}:${v.managementPort}`,
    servers: v.mainStationLinks.map((l) => ({ host: l.address, port: l.port, name: l.name })),
  };
  const host = {
    replica: { name: r.name, station: r.station },
    tw_template: v.twTemplate,
    bastion_cidr: v.bastionCidr,
    management_cidr: v.managementCidr,
    management_port: v.managementPort,
    ssh_users: v.sshUsers,
    main_station_links: v.mainStationLinks,
    time_servers: v.timeServers,
    resolvers: v.resolvers,
    object_storage_cidrs: v.objectStorageCidrs,
    metadata_service: v.metadataService,
    usbip: null,
    management_address: r.fixedIp,
    counter_share: {
      protocol: s.protocol,
      source: `//${s.address}/${s.path}`,
      mount_point: s.mountPoint,
      credentials_file: s.credentialsFile,
    },
    state_volume: { device: `${v.stateDevicePrefix}${r.volumeId.slice(0, 20)}` },
  };
  return { values, host };
}

/** The module's input variables (terraform.tfvars.json) for this site. */
export function moduleTfvars(
  v: ModuleVars,
  replicas: (ReplicaSpec & { role: 'active' | 'standby' })[],
): Record<string, unknown> {
  return {
    name_prefix: v.namePrefix,
    network_id: 'drsite-net',
    subnet_id: 'drsite-subnet',
    image_name: 'nqgw-dr-debian12-drsite',
    bastion_cidr: v.bastionCidr,
    management_cidr: v.managementCidr,
    management_port: v.managementPort,
    ssh_users: v.sshUsers,
    main_station_links: v.mainStationLinks,
    time_servers: v.timeServers,
    resolvers: v.resolvers,
    object_storage_cidrs: v.objectStorageCidrs,
    metadata_service: v.metadataService,
    tw_template: v.twTemplate,
    appliance_values: v.appliance,
    counter_share: {
      protocol: v.counterShare.protocol,
      address: v.counterShare.address,
      path: v.counterShare.path,
      mount_point: v.counterShare.mountPoint,
      credentials_file: v.counterShare.credentialsFile,
    },
    replicas: Object.fromEntries(
      replicas.map((r) => [r.name, { role: r.role, station: r.station, fixed_ip: r.fixedIp }]),
    ),
  };
}

/**
 * Every replica's user-data as the module renders it. With terraform installed: Terraform itself
 * evaluates the module's own variables (with their validations) and locals, user_data included
 * (`terraform console` in the harness of test/unit/infra/tf-console.ts: no provider; the volume
 * ID, which only a real apply knows, is its stand-in STAND_IN_VOLUME_ID). Without terraform:
 * the documents built here as main.tf builds them, rendered by the suite's template renderer.
 * Returns the user-data and the state volume's serial per replica.
 */
export async function renderUserDataAll(
  dir: string,
  v: ModuleVars,
  replicas: (ReplicaSpec & { role: 'active' | 'standby' })[],
): Promise<{ by: string; userData: Map<string, string>; serial: Map<string, string> }> {
  const userData = new Map<string, string>();
  const serial = new Map<string, string>();
  if (TERRAFORM_BIN) {
    const harness = makeHarness();
    try {
      const vars = moduleTfvars(v, replicas);
      writeFileSync(path.join(dir, 'terraform.tfvars.json'), JSON.stringify(vars, null, 2));
      const r = evaluate(harness, '{ user_data = local.user_data, host = local.host_values }', vars);
      if (r.status !== 0) throw new Error(`terraform console: ${r.stderr}${r.stdout}`);
      const value = r.value as {
        user_data: Record<string, string>;
        host: Record<string, { state_volume?: { device: string } }>;
      };
      for (const rep of replicas) {
        userData.set(rep.name, value.user_data[rep.name]!);
        const device = value.host[rep.name]?.state_volume?.device ?? '';
        serial.set(rep.name, device.replace(/^.*\/virtio-/, '') || STAND_IN_VOLUME_ID.slice(0, 20));
      }
      return {
        by: "terraform console: the module's variables and locals (local.user_data)",
        userData,
        serial,
      };
    } finally {
      rmSync(harness, { recursive: true, force: true });
    }
  }
  for (const rep of replicas) {
    const docs = moduleDocuments(v, rep);
    userData.set(
      rep.name,
      renderUserData({
        hostname: `${v.namePrefix}-${rep.name}`,
        values_json: JSON.stringify(docs.values),
        host_json: JSON.stringify(docs.host),
      }),
    );
    serial.set(rep.name, rep.volumeId.slice(0, 20));
  }
  return { by: 'test/unit/infra/user-data-template.ts (no terraform here)', userData, serial };
}

/** A NoCloud seed ISO (volume id cidata): the user-data and the meta-data the cloud would serve. */
export async function makeSeedIso(
  dir: string,
  userData: string,
  meta: { instanceId: string; hostname: string; publicKey: string },
): Promise<string> {
  const seedDir = path.join(dir, 'seed');
  mkdirSync(seedDir, { recursive: true });
  writeFileSync(path.join(seedDir, 'user-data'), userData);
  // public-keys: what Nova's key_pair becomes in the metadata; cloud-init gives it to the
  // image's default user (debian).
  writeFileSync(
    path.join(seedDir, 'meta-data'),
    `instance-id: ${meta.instanceId}\nlocal-hostname: ${meta.hostname}\npublic-keys:\n  - ${meta.publicKey.trim()}\n`,
  );
  const iso = path.join(dir, 'seed.iso');
  await mustRun(
    'genisoimage',
    ['-quiet', '-output', iso, '-volid', 'cidata', '-joliet', '-rock', 'user-data', 'meta-data'],
    { cwd: seedDir, timeoutMs: 60_000 },
  );
  return iso;
}

import { readFileSync } from 'node:fs';
import { FleetError } from './errors.js';

/** One replica as Terraform describes it (terraform/modules/nqgw-replicas/outputs.tf). */
export interface Replica {
  name: string;
  /** The fixed IP sshd listens on (through the bastion); `host:port` when not port 22. */
  host: string;
  port: number;
  /** active or standby (replica_roles; else active_replica), or unknown. */
  role: string;
  station?: string;
}

type Outputs = Record<string, unknown>;

/** `terraform output -json` wraps each output as {sensitive, type, value}; a bare value is accepted too. */
function output(doc: Outputs, name: string): unknown {
  const o = doc[name];
  if (o !== null && typeof o === 'object' && 'value' in o && 'type' in o)
    return (o as { value: unknown }).value;
  return o;
}

function stringMap(doc: Outputs, name: string, file: string): Record<string, string> | undefined {
  const v = output(doc, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw new FleetError('NQ660', `${file}: output ${name} is not a map of names to strings`, INVENTORY_HINT);
  }
  return v as Record<string, string>;
}

const INVENTORY_HINT =
  'Give the JSON of `terraform output -json` in the DR VPC (outputs replica_ips, replica_roles or active_replica, replica_stations).';

/**
 * The replicas from the Terraform outputs (`terraform output -json > fleet.json`): replica_ips
 * (required), replica_roles or active_replica, and replica_stations when present. Sorted by name,
 * as Terraform's maps are.
 */
export function readInventory(file: string): Replica[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new FleetError('NQ660', `inventory ${file}: ${why}`, INVENTORY_HINT);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new FleetError('NQ660', `inventory ${file}: not a JSON object`, INVENTORY_HINT);
  const outputs = doc as Outputs;
  const ips = stringMap(outputs, 'replica_ips', file);
  if (!ips || Object.keys(ips).length === 0)
    throw new FleetError('NQ660', `inventory ${file}: no replica_ips output`, INVENTORY_HINT);
  const roles = stringMap(outputs, 'replica_roles', file) ?? {};
  const stations = stringMap(outputs, 'replica_stations', file) ?? {};
  const active = output(outputs, 'active_replica');
  return Object.keys(ips)
    .sort()
    .map((name) => {
      const { host, port } = splitHostPort(ips[name]!, file, name);
      const role =
        roles[name] ?? (typeof active === 'string' ? (active === name ? 'active' : 'standby') : 'unknown');
      return { name, host, port, role, ...(stations[name] ? { station: stations[name] } : {}) };
    });
}

/** `10.0.0.5`, `10.0.0.5:2222`, `[fd00::5]:2222` (a port only where sshd is not on 22). */
function splitHostPort(text: string, file: string, name: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  const port = m?.[2] === undefined ? 22 : Number(m[2]);
  if (!m || !(port > 0 && port < 65536))
    throw new FleetError(
      'NQ660',
      `inventory ${file}: replica ${name} address "${text}" is not host[:port]`,
      INVENTORY_HINT,
    );
  return { host: m[1]!, port };
}

import type { ReplicaReport } from './probe.js';

/** One thing `nqgw fleet check` flags (exit 1). */
export interface Finding {
  code: string;
  text: string;
  replicas: string[];
}

/** What the replicas must match besides each other: the last reconciliation's record. */
export interface Baseline {
  version?: string;
  configHash?: string;
  configSections?: Record<string, string>;
}

/**
 * A baseline from a saved `nqgw fleet status --json` (the replicas' common version and hash, when
 * they agreed) or a hand-written {version, configHash}.
 */
export function baselineFrom(doc: unknown): Baseline {
  const d = (doc ?? {}) as { replicas?: ReplicaReport[] } & Baseline;
  if (!Array.isArray(d.replicas)) return d;
  const one = <T>(values: (T | undefined)[]): T | undefined => {
    const set = new Set(values.filter((v) => v !== undefined).map((v) => JSON.stringify(v)));
    return set.size === 1 ? (JSON.parse([...set][0]!) as T) : undefined;
  };
  const version = one(d.replicas.map((r) => r.version));
  const configHash = one(d.replicas.map((r) => r.configHash));
  const configSections = one(d.replicas.map((r) => r.configSections));
  return {
    ...(version ? { version } : {}),
    ...(configHash ? { configHash } : {}),
    ...(configSections ? { configSections } : {}),
  };
}

function groups(
  reports: ReplicaReport[],
  key: (r: ReplicaReport) => string | undefined,
): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of reports) {
    const k = key(r);
    if (k === undefined) continue;
    m.set(k, [...(m.get(k) ?? []), r.name]);
  }
  return m;
}

/** Sections whose hashes are not the same on every replica that answered. */
function differingSections(reports: ReplicaReport[]): string[] {
  const names = new Set(reports.flatMap((r) => Object.keys(r.configSections ?? {})));
  return [...names].filter((n) => new Set(reports.map((r) => r.configSections?.[n] ?? '-')).size > 1).sort();
}

const short = (h: string): string => h.slice(0, 12);

/** Everything that is not as the DR practice wants it: replicas alike, and alike to the record. */
export function findDifferences(reports: ReplicaReport[], baseline: Baseline = {}): Finding[] {
  const out: Finding[] = [];
  for (const r of reports.filter((x) => !x.reachable))
    out.push({
      code: 'NQ670',
      text: `${r.name}: not reachable: ${r.error ?? 'no answer'}`,
      replicas: [r.name],
    });
  for (const r of reports.filter((x) => x.reachable && x.error))
    out.push({ code: 'NQ671', text: `${r.name}: ${r.error}`, replicas: [r.name] });
  const read = reports.filter((r) => r.reachable && r.version !== undefined);

  const versions = groups(read, (r) => r.version);
  if (versions.size > 1) {
    const list = [...versions].map(([v, names]) => `${v} on ${names.join(', ')}`).join('; ');
    out.push({ code: 'NQ672', text: `versions differ: ${list}`, replicas: read.map((r) => r.name) });
  }
  const hashes = groups(read, (r) => r.configHash);
  if (hashes.size > 1) {
    const list = [...hashes].map(([h, names]) => `${short(h)} on ${names.join(', ')}`).join('; ');
    const where = differingSections(read);
    out.push({
      code: 'NQ673',
      text: `configuration differs: ${list}${where.length ? ` (in [${where.join('], [')}])` : ''}`,
      replicas: read.map((r) => r.name),
    });
  }
  for (const r of read) {
    if (baseline.version && r.version !== baseline.version)
      out.push({
        code: 'NQ674',
        text: `${r.name}: version ${r.version}, the record says ${baseline.version}`,
        replicas: [r.name],
      });
    if (baseline.configHash && r.configHash !== baseline.configHash) {
      const sections = Object.keys(baseline.configSections ?? {})
        .filter((n) => r.configSections?.[n] !== baseline.configSections?.[n])
        .sort();
      out.push({
        code: 'NQ675',
        text: `${r.name}: configuration ${short(r.configHash ?? '-')} is not the recorded ${short(baseline.configHash)}${sections.length ? ` (in [${sections.join('], [')}])` : ''}`,
        replicas: [r.name],
      });
    }
    if (r.station && r.configStation && r.station !== r.configStation)
      out.push({
        code: 'NQ676',
        text: `${r.name}: tw.ini station ${r.configStation}, Terraform says ${r.station}`,
        replicas: [r.name],
      });
  }
  // One station, one session: two replicas logged on at once means a cutover went wrong.
  const linked = groups(
    reports.filter((r) => r.gateway?.running && r.gateway.linkState === '正常'),
    (r) => r.gateway?.station ?? r.configStation,
  );
  for (const [station, names] of linked)
    if (names.length > 1)
      out.push({
        code: 'NQ677',
        text: `station ${station} is logged on from ${names.join(' and ')} at once`,
        replicas: names,
      });
  return out;
}

import type { ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { waitUntil } from '../process.js';
import type { Netns } from './netns.js';
import type { RunOptions, RunResult } from './run.js';

export interface ReplicaVmOptions {
  name: string;
  kernel: string;
  initrd: string;
  /** qcow2 overlay of the built image (the replica's root disk). */
  disk: string;
  /** The state volume (blank qcow2) and the serial the cloud gives it (virtio-<serial> in the guest). */
  stateDisk: string;
  stateSerial: string;
  seedIso: string;
  /** The address qemu's DHCP hands out (the replica's fixed_ip). */
  guestIp: string;
  /** Port on the namespace's loopback forwarded to the guest's 22. */
  sshPort: number;
  sshKey: string;
  memoryMb: number;
  consoleLog: string;
}

/**
 * One replica under qemu (TCG: no KVM here) in the test's network namespace. User-mode network:
 * the guest reaches the namespace's loopback as 10.0.2.2 (smbd, the simulator) and nothing else;
 * its sshd is reached through hostfwd, so the connection comes from 10.0.2.2, the bastion.
 */
export class ReplicaVm {
  private proc: ChildProcess | null = null;
  console = '';
  private waiters: { re: RegExp; resolve: () => void }[] = [];
  exited: Promise<number | null> = Promise.resolve(null);

  constructor(
    private readonly ns: Netns,
    readonly o: ReplicaVmOptions,
  ) {}

  start(): void {
    const o = this.o;
    const args = [
      '-accel',
      'tcg',
      '-smp',
      '2',
      '-m',
      String(o.memoryMb),
      '-nodefaults',
      '-display',
      'none',
      '-no-reboot',
      '-kernel',
      o.kernel,
      '-initrd',
      o.initrd,
      // By label: which PCI slot the root disk gets is then no concern of the kernel's. (No
      // rootdelay=: initramfs-tools sleeps that long unconditionally; it waits for the label anyway.)
      '-append',
      'root=LABEL=root rw console=ttyS0 net.ifnames=0',
      // All disks as explicit devices, in this order: root, the state volume, the seed.
      '-drive',
      `file=${o.disk},if=none,id=root,format=qcow2`,
      '-device',
      'virtio-blk-pci,drive=root',
      // The serial is how the guest names the volume (/dev/disk/by-id/virtio-SERIAL), as for Cinder.
      '-drive',
      `file=${o.stateDisk},if=none,id=state,format=qcow2`,
      '-device',
      `virtio-blk-pci,drive=state,serial=${o.stateSerial}`,
      '-drive',
      `file=${o.seedIso},if=none,id=seed,format=raw,readonly=on`,
      '-device',
      'virtio-blk-pci,drive=seed',
      '-netdev',
      `user,id=n0,net=10.0.2.0/24,dhcpstart=${o.guestIp},hostfwd=tcp:127.0.0.1:${o.sshPort}-:22`,
      '-device',
      'virtio-net-pci,netdev=n0',
      '-chardev',
      'stdio,id=s0,signal=off',
      '-serial',
      'chardev:s0',
    ];
    const proc = this.ns.spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const onData = (c: Buffer): void => {
      const text = c.toString('utf8');
      appendFileSync(o.consoleLog, text);
      this.console = (this.console + text).slice(-200_000);
      this.waiters = this.waiters.filter((w) => {
        if (!w.re.test(this.console)) return true;
        w.resolve();
        return false;
      });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  }

  /** Resolves when the serial console has printed a line matching `re`. */
  waitConsole(re: RegExp, timeoutMs: number): Promise<void> {
    if (re.test(this.console)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.o.name}: no ${re} on the console in ${timeoutMs} ms:\n${this.console.slice(-4000)}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        re,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      void this.exited.then((code) => {
        if (this.waiters.length)
          reject(new Error(`${this.o.name}: qemu exited (${code}):\n${this.console.slice(-4000)}`));
      }, reject);
    });
  }

  /** A command on the replica over SSH as the image's cloud user (`debian`). */
  ssh(command: string, options: RunOptions = {}): Promise<RunResult> {
    return this.ns.run(
      'ssh',
      [
        '-i',
        this.o.sshKey,
        '-p',
        String(this.o.sshPort),
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'LogLevel=ERROR',
        '-o',
        'BatchMode=yes',
        '-o',
        'ConnectTimeout=20',
        '-o',
        'ServerAliveInterval=10',
        'debian@127.0.0.1',
        command,
      ],
      { timeoutMs: 300_000, ...options },
    );
  }

  async mustSsh(command: string, options: RunOptions = {}): Promise<RunResult> {
    const r = await this.ssh(command, options);
    if (r.status !== 0) {
      throw new Error(
        `${this.o.name}: ${command}: exit ${r.status}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`,
      );
    }
    return r;
  }

  /** Waits until sshd answers and admits the key (after first boot restarted it with its rules). */
  async waitSsh(timeoutMs: number): Promise<void> {
    await waitUntil(
      async () => (await this.ssh('true', { timeoutMs: 30_000 })).status === 0,
      `${this.o.name} ssh`,
      timeoutMs,
      2000,
    );
  }

  /** Power off, hard: the process is killed, as a host failure would (no shutdown in the guest). */
  async kill(): Promise<void> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * What a session needs of a connection, and the TLS socket that provides it. Keeping the session
 * behind this interface lets a test drive it without sockets.
 */
import type { TLSSocket } from 'node:tls';

export interface Transport {
  write(data: Buffer): void;
  /** Close once what was written has gone out. */
  end(): void;
  destroy(): void;
  pause(): void;
  resume(): void;
  /** Subject CN of the client certificate. */
  readonly peerCn: string | undefined;
  readonly remote: string;
}

/** The client certificate's subject CN (node gives an array when the subject repeats CN). */
function subjectCn(socket: TLSSocket): string | undefined {
  const subject = socket.getPeerCertificate()?.subject as unknown as Record<string, unknown> | undefined;
  const cn = subject?.CN;
  if (typeof cn === 'string') return cn;
  return Array.isArray(cn) && typeof cn[0] === 'string' ? cn[0] : undefined;
}

export function tlsTransport(socket: TLSSocket): Transport {
  return {
    write: (data) => void socket.write(data),
    end: () => void socket.end(),
    destroy: () => void socket.destroy(),
    pause: () => void socket.pause(),
    resume: () => void socket.resume(),
    peerCn: subjectCn(socket),
    remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
  };
}

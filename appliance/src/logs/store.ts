import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { StoreAbortedError, StoreRequestError, StoreTimeoutError } from './errors.js';
import type { StoreSettings } from './settings.js';

/** Default for one request (connect, send, answer and body together) when settings give none. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface StoredObject {
  sha256: string | null;
  etag: string | null;
  size: number;
}

export interface ObjectStoreOptions {
  /** Epoch ms after which no request may still be running (a stop's budget); null = none. */
  deadline?: number | null;
}

/**
 * The object store, as the shipper and the archive use it: HEAD, PUT of a whole buffer with
 * Content-MD5, GET, LIST. The SDK's own retries are off (the shipper retries, forever, in
 * order) and its flexible checksums only when required, so a PUT is one plain request with a
 * buffer body: no aws-chunked framing, which s3rver would store as part of the object.
 *
 * Every request has a hard deadline. The installed @smithy/node-http-handler only enforces its
 * connectionTimeout (until connect) and socketTimeout (idle socket); its requestTimeout merely
 * logs a warning unless throwOnRequestTimeout is set, and even then stops at the response
 * headers, so a store that answers headers and stalls the body would hang the caller forever.
 * So each call runs under its own AbortController, aborted at min(request timeout, deadline),
 * and the caller's promise is settled by that deadline whatever the SDK does; abortAll() cuts
 * every running request at once (the log service's stop).
 */
export class ObjectStore {
  readonly client: S3Client;
  readonly requestTimeoutMs: number;
  /** Running requests, with what each is (for the abort's message). */
  private readonly inflight = new Map<AbortController, { operation: string; key: string }>();
  private deadline: number | null;
  private closed = false;

  constructor(
    readonly settings: StoreSettings,
    options: ObjectStoreOptions = {},
  ) {
    this.requestTimeoutMs = settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.deadline = options.deadline ?? null;
    this.client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: true,
      maxAttempts: 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: Math.min(5000, this.requestTimeoutMs),
        socketTimeout: this.requestTimeoutMs,
        requestTimeout: this.requestTimeoutMs,
        throwOnRequestTimeout: true,
      },
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
    });
  }

  /** From now on no request runs past `at` (epoch ms). */
  setDeadline(at: number | null): void {
    this.deadline = at;
  }

  /** How many requests are running now (for tests and status). */
  get requestsInFlight(): number {
    return this.inflight.size;
  }

  /**
   * Run one request (and the reading of its body) under a deadline. The SDK gets the signal so
   * the socket is destroyed on abort; the race makes sure we return even if it does not.
   */
  private async call<T>(
    operation: string,
    key: string,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (this.closed) throw new StoreAbortedError(operation, key);
    const budget =
      this.deadline === null
        ? this.requestTimeoutMs
        : Math.min(this.requestTimeoutMs, this.deadline - Date.now());
    // The stop's budget is spent: not sent at all (said as an abort, not as the store's timeout).
    if (budget <= 0) throw new StoreAbortedError(operation, key);
    const controller = new AbortController();
    this.inflight.set(controller, { operation, key });
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), {
        once: true,
      });
      timer = setTimeout(() => controller.abort(new StoreTimeoutError(operation, key, budget)), budget);
    });
    try {
      return await Promise.race([run(controller.signal), cut]);
    } catch (err) {
      throw storeError(operation, key, err);
    } finally {
      clearTimeout(timer);
      this.inflight.delete(controller);
    }
  }

  /** Cut every running request now; they reject with StoreAbortedError. */
  abortAll(): void {
    for (const [c, { operation, key }] of this.inflight) c.abort(new StoreAbortedError(operation, key));
  }

  key(...parts: string[]): string {
    return [this.settings.prefix, ...parts].filter((p) => p.length > 0).join('/');
  }

  async head(key: string): Promise<StoredObject | null> {
    try {
      const res = await this.call('HEAD', key, (abortSignal) =>
        this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }), { abortSignal }),
      );
      return {
        sha256: res.Metadata?.sha256 ?? null,
        etag: res.ETag?.replace(/"/g, '') ?? null,
        size: res.ContentLength ?? 0,
      };
    } catch (err) {
      if (err instanceof StoreRequestError && (err.status === 404 || err.storeCode === 'NotFound'))
        return null;
      throw err;
    }
  }

  async put(key: string, body: Buffer, md5b64: string, sha256: string, contentType: string): Promise<void> {
    await this.call('PUT', key, (abortSignal) =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.settings.bucket,
          Key: key,
          Body: body,
          ContentMD5: md5b64,
          ContentLength: body.length,
          ContentType: contentType,
          Metadata: { sha256 },
        }),
        { abortSignal },
      ),
    );
  }

  async get(key: string): Promise<Buffer> {
    return this.call('GET', key, async (abortSignal) => {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }), {
        abortSignal,
      });
      return Buffer.from(await res.Body!.transformToByteArray());
    });
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.call('LIST', prefix, (abortSignal) =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.settings.bucket,
            Prefix: prefix,
            ContinuationToken: token,
          }),
          { abortSignal },
        ),
      );
      for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  /** Abort what is running, refuse new requests, close the sockets. */
  destroy(): void {
    this.closed = true;
    this.abortAll();
    this.client.destroy();
  }
}

/** An answer from the store (it has an HTTP status) as a StoreRequestError; anything else as is. */
function storeError(operation: string, key: string, err: unknown): unknown {
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status === undefined) return err;
  const name = (err as Error).name;
  const code = name && name !== 'Unknown' && name !== 'Error' ? name : null;
  return new StoreRequestError(operation, key, status, code, err);
}

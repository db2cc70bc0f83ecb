import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { StoreSettings } from './settings.js';

export interface StoredObject {
  sha256: string | null;
  etag: string | null;
  size: number;
}

/**
 * The object store, as the shipper and the archive use it: HEAD, PUT of a whole buffer with
 * Content-MD5, GET, LIST. The SDK's own retries are off (the shipper retries, forever, in
 * order) and its flexible checksums only when required, so a PUT is one plain request with a
 * buffer body: no aws-chunked framing, which s3rver would store as part of the object.
 */
export class ObjectStore {
  readonly client: S3Client;

  constructor(readonly settings: StoreSettings) {
    this.client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: true,
      maxAttempts: 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 5000, requestTimeout: 30_000 },
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
    });
  }

  key(...parts: string[]): string {
    return [this.settings.prefix, ...parts].filter((p) => p.length > 0).join('/');
  }

  async head(key: string): Promise<StoredObject | null> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return {
        sha256: res.Metadata?.sha256 ?? null,
        etag: res.ETag?.replace(/"/g, '') ?? null,
        size: res.ContentLength ?? 0,
      };
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (err as Error).name === 'NotFound') return null;
      throw err;
    }
  }

  async put(key: string, body: Buffer, md5b64: string, sha256: string, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.settings.bucket,
        Key: key,
        Body: body,
        ContentMD5: md5b64,
        ContentLength: body.length,
        ContentType: contentType,
        Metadata: { sha256 },
      }),
    );
  }

  async get(key: string): Promise<Buffer> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  destroy(): void {
    this.client.destroy();
  }
}

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Whether something accepts connections on 127.0.0.1:port. */
export const listening = (port: number) => new Promise<boolean>((resolve) => {
  const c = createConnection({ host: '127.0.0.1', port }, () => {
    c.destroy();
    resolve(true);
  });
  c.on('error', () => resolve(false));
});

/** A one-layer OCI image layout (what `skopeo copy oci:DIR:1 …` reads), made by hand. */
export function ociLayout(dir: string): void {
  const blob = (data: Buffer) => {
    const digest = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(dir, 'blobs', 'sha256', digest), data);
    return { digest: `sha256:${digest}`, size: data.length };
  };
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  // A tar of one file, "hello" (512-byte header, content padded, two zero blocks).
  const header = Buffer.alloc(512);
  header.write('hello', 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write('00000000006\0', 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\x0000', 257);
  header.write(`${[...header].reduce((a, b) => a + b, 0).toString(8).padStart(6, '0')}\0 `, 148);
  const tar = Buffer.concat([header, Buffer.from('hello\n'), Buffer.alloc(506), Buffer.alloc(1024)]);
  const layer = blob(gzipSync(tar));
  const config = blob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(tar).digest('hex')}`] } })));
  const manifest = blob(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
  })));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': '1' } }] }));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

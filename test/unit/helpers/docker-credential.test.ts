import { describe, expect, it } from 'vitest';
import { registryHost, registryRecordName } from '../../../src/helpers/docker-credential.js';
import { validateName } from '../../../src/vault/names.js';

describe('docker credential helper: registry addresses', () => {
  it('the host and port of what docker passes, as a valid record name', () => {
    const cases: Array<[string, string, string]> = [
      ['127.0.0.1:5000', '127.0.0.1:5000', 'registry/127.0.0.1_3a5000'],
      ['https://index.docker.io/v1/', 'index.docker.io', 'registry/index.docker.io'],
      ['Registry.Example.com\n', 'registry.example.com', 'registry/registry.example.com'],
      ['http://registry.example.com:443/x', 'registry.example.com:443', 'registry/registry.example.com_3a443'],
      ['[::1]:5000', '[::1]:5000', 'registry/_5b_3a_3a1_5d_3a5000'],
    ];
    for (const [input, host, name] of cases) {
      expect(registryHost(input)).toBe(host);
      expect(registryRecordName(input)).toBe(name);
      expect(validateName(name)).toBe(name);
    }
    for (const bad of ['', '   ', 'http://', 'a b:c']) expect(() => registryRecordName(bad)).toThrow();
  });
});

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FabricRecord } from '../../lib/domain/contract';
import { pluginArgs, pluginCommand, serverOf } from '../../lib/cli/kubeconfig';
import { tempDir } from './support';

describe('locating the API and the plugin', () => {
  const record = {
    name: 'demo',
    clusterName: 'demo.example.com',
    outputs: { apiName: 'api.demo.example.com', stateBucket: 'b' },
  } as FabricRecord;

  test("GIVEN no --server THEN the server is kops's https://api.<cluster>", () => {
    expect(serverOf(record, undefined)).toEqual({ server: 'https://api.demo.example.com' });
  });

  test('GIVEN --server naming another host THEN TLS still checks the certificate for api.<cluster>', () => {
    expect(serverOf(record, 'https://127.0.0.1:6443')).toEqual({ server: 'https://127.0.0.1:6443', tlsServerName: 'api.demo.example.com' });
  });

  test('fails when --server is not https', () => {
    expect(() => serverOf(record, 'http://127.0.0.1:8080')).toThrow(expect.objectContaining({ name: 'ServerInvalid' }));
  });

  test('GIVEN a profile and local mode THEN the plugin gets the same fabric, bucket, region, lifetime, profile and emulator', () => {
    expect(
      pluginArgs(
        'demo',
        { region: 'eu-west-1', prefix: 'acme-state' },
        { ttl: '30m', local: true, endpoint: 'http://127.0.0.1:5000' },
        'admin',
      ),
    ).toEqual([
      'kubeconfig',
      'demo',
      '--credential',
      '--region',
      'eu-west-1',
      '--bucket-prefix',
      'acme-state',
      '--ttl',
      '30m',
      '--profile',
      'admin',
      '--local',
      '--endpoint',
      'http://127.0.0.1:5000',
    ]);
  });

  test('GIVEN no profile and no emulator THEN the plugin gets neither', () => {
    expect(pluginArgs('demo', { region: 'us-east-2', prefix: 'fabricctl-state' }, {}, undefined)).toEqual([
      'kubeconfig',
      'demo',
      '--credential',
      '--region',
      'us-east-2',
      '--bucket-prefix',
      'fabricctl-state',
      '--ttl',
      '1h',
    ]);
  });

  test('GIVEN fabricctl on PATH THEN kubectl is told to run fabricctl', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'fabricctl'), '#!/bin/sh\n', { mode: 0o755 });
    expect(pluginCommand({ PATH: `/nonexistent:${dir}` })).toBe('fabricctl');
  });

  test('GIVEN fabricctl only in a node_modules/.bin on PATH (npx, npm scripts) THEN kubectl is told the absolute path', () => {
    const bin = join(tempDir(), 'node_modules', '.bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'fabricctl'), '#!/bin/sh\n', { mode: 0o755 });
    expect(pluginCommand({ PATH: bin })).toBe(join(__dirname, '..', '..', 'bin', 'fabricctl.js'));
  });

  test("GIVEN no fabricctl on PATH THEN kubectl is told to run this installation's bin by absolute path", () => {
    const command = pluginCommand({ PATH: tempDir() });
    expect(command).toBe(join(__dirname, '..', '..', 'bin', 'fabricctl.js'));
    expect(existsSync(command)).toBe(true);
  });
});

import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { describeWithMoto, useMoto } from './moto';
import { RUN_TMPDIR } from './temp-root';
import { stopWorkerMotos, workerMoto } from './worker-moto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { motoInstalled, motoPython, SERIAL_SERVER, startMoto } from '../../lib/local/moto';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';

describeWithMoto('moto test support', () => {
  const moto = useMoto();
  test('answers the real AWS SDK on a loopback port and is stopped by its PID', async () => {
    const identity = await new STSClient({}).send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe('123456789012');
    expect(moto.current().endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

// Not behind describeWithMoto: that gate is motoInstalled() itself.
describe('motoInstalled', () => {
  const SYSTEM_PYTHON = '/usr/bin/python3';
  const systemPythonLacksMoto = spawnSync(SYSTEM_PYTHON, ['-c', 'import moto'], { stdio: 'ignore' }).status === 1;
  test("GIVEN the moto_server on PATH THEN its answer is whether moto's server imports in moto_server's Python", () => {
    const imports = spawnSync(motoPython(), ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0;
    expect(motoInstalled()).toBe(imports);
  });
  (systemPythonLacksMoto ? test : test.skip)(
    "GIVEN a moto_server whose Python has no moto (Debian's python3) THEN it says moto is not installed",
    () => {
      const bin = mkdtempSync(join(tmpdir(), 'no-moto-'));
      try {
        writeFileSync(join(bin, 'moto_server'), `#!${SYSTEM_PYTHON}\n`, { mode: 0o755 });
        const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
        expect(motoPython(env)).toBe(SYSTEM_PYTHON);
        expect(motoInstalled(env)).toBe(false);
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    },
  );
  if (!systemPythonLacksMoto) {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED: motoInstalled's "not installed" answer is not checked: ${SYSTEM_PYTHON} is missing or has moto.`);
  }
});

describeWithMoto('startMoto', () => {
  test('GIVEN several emulators started at once WHEN one is stopped THEN each had its own port and the others still answer', async () => {
    const motos = await Promise.all([startMoto(), startMoto(), startMoto()]);
    try {
      expect(new Set(motos.map((m) => m.endpoint)).size).toBe(motos.length);
      await motos[0]?.stop();
      await expect(fetch(`${motos[0]?.endpoint ?? ''}/moto-api/data.json`)).rejects.toThrow();
      for (const moto of motos.slice(1)) expect((await fetch(`${moto.endpoint}/moto-api/data.json`)).ok).toBe(true);
    } finally {
      await Promise.all(motos.map((m) => m.stop()));
    }
  });
});

describeWithMoto('the emulator handles one request at a time (lib/local/serial-moto-server.py)', () => {
  test(
    "GIVEN moto's own models WHEN one thread reads the EC2 tag store while another tags a resource " +
      'THEN reads fail: the race behind InvalidPermission.Duplicate',
    () => {
      const run = spawnSync(motoPython(), [join(__dirname, 'moto-tag-race.py'), '3'], { encoding: 'utf8', timeout: 120_000 });
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^[1-9]\d*\tdictionary changed size during iteration$/m);
    },
  );

  test('GIVEN a body still arriving WHEN another request is sent THEN it is served only after the first, and sees its write', async () => {
    const moto = await startMoto();
    try {
      const { hostname, port } = new URL(moto.endpoint);
      await fetch(`${moto.endpoint}/one-at-a-time`, { method: 'PUT' });
      const order: string[] = [];
      const slowPut = request({ hostname, port, method: 'PUT', path: '/one-at-a-time/object', headers: { 'content-length': '10' } });
      const slowAnswered = new Promise<void>((resolve) =>
        slowPut.on('response', (response) =>
          response.resume().on('end', () => {
            order.push('slow put answered');
            resolve();
          }),
        ),
      );
      slowPut.write('12345');
      await new Promise((r) => setTimeout(r, 300));
      // The other request reads what the slow one writes: served before it, it would find nothing (404).
      const s3 = new S3Client({
        endpoint: moto.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      const otherAnswered = s3.send(new GetObjectCommand({ Bucket: 'one-at-a-time', Key: 'object' })).then(
        async (response) => {
          order.push('other request answered');
          return { status: 200, body: (await response.Body?.transformToString()) ?? '' };
        },
        (error: { $metadata?: { httpStatusCode?: number } }) => {
          order.push('other request answered');
          return { status: error.$metadata?.httpStatusCode ?? 0, body: '' };
        },
      );
      await new Promise((r) => setTimeout(r, 1000));
      order.push('slow body finished');
      slowPut.end('67890');
      const [, other] = await Promise.all([slowAnswered, otherAnswered]);
      // Waiting for the first request's body, the server answered nothing else; then it served the
      // requests in order (the answers themselves are written outside the lock, in either order).
      expect(order[0]).toBe('slow body finished');
      expect(other).toEqual({ status: 200, body: '1234567890' });
    } finally {
      await moto.stop();
    }
  });

  test(
    'GIVEN an SDK call answered with success WHEN its client sends it again (same amz-sdk-invocation-id) ' +
      'THEN the first answer is repeated and nothing is made twice',
    async () => {
      const moto = await startMoto();
      try {
        const createVpc = (invocation: string) =>
          fetch(`${moto.endpoint}/`, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'amz-sdk-invocation-id': invocation,
              authorization: 'AWS4-HMAC-SHA256 Credential=test/20261201/us-east-2/ec2/aws4_request, SignedHeaders=host, Signature=0',
            },
            body: 'Action=CreateVpc&Version=2016-11-15&CidrBlock=10.99.0.0%2F16',
          }).then((response) => response.text());
        const first = await createVpc('invocation-1');
        expect(await createVpc('invocation-1')).toBe(first);
        await createVpc('invocation-2');
        const ec2 = new EC2Client({
          endpoint: moto.endpoint,
          region: 'us-east-2',
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        });
        const vpcs = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'cidr-block', Values: ['10.99.0.0/16'] }] }))).Vpcs ?? [];
        expect(vpcs).toHaveLength(2);
      } finally {
        await moto.stop();
      }
    },
  );
});

describeWithMoto('one emulator per jest worker (test/support/worker-moto.ts)', () => {
  const s3 = (endpoint: string) =>
    new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-2', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

  test("GIVEN a file that used the worker's emulator WHEN the next file asks for one THEN it gets the same emulator, emptied", async () => {
    const first = await workerMoto();
    await s3(first.endpoint).send(new CreateBucketCommand({ Bucket: 'left-by-the-previous-file' }));
    await first.stop();

    const next = await workerMoto();
    expect({ pid: next.pid, endpoint: next.endpoint }).toEqual({ pid: first.pid, endpoint: first.endpoint });
    expect((await s3(next.endpoint).send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
  });

  test("GIVEN a worker's emulator that runs but cannot be emptied THEN it is stopped and the file gets a new one", async () => {
    const worker = process.env.JEST_WORKER_ID;
    const root = process.env[RUN_TMPDIR] ?? '';
    // A process that looks like the worker's emulator (its command line names the server) and answers nothing.
    const stuck = spawn(motoPython(), ['-c', 'import time; time.sleep(60)', SERIAL_SERVER], { stdio: 'ignore' });
    const exited = new Promise((resolve) => stuck.once('exit', (_code, signal) => resolve(signal)));
    process.env.JEST_WORKER_ID = `stuck-${process.pid}`;
    const record = join(root, `moto-of-worker-${process.env.JEST_WORKER_ID}.json`);
    let replacement: Awaited<ReturnType<typeof workerMoto>> | undefined;
    try {
      writeFileSync(record, JSON.stringify({ endpoint: 'http://127.0.0.1:1', pid: stuck.pid }));
      replacement = await workerMoto();
      expect(await exited).toBe('SIGKILL');
      expect(replacement.pid).not.toBe(stuck.pid);
      expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual({ endpoint: replacement.endpoint, pid: replacement.pid });
    } finally {
      if (worker === undefined) delete process.env.JEST_WORKER_ID;
      else process.env.JEST_WORKER_ID = worker;
      stuck.kill('SIGKILL');
      if (replacement) process.kill(replacement.pid, 'SIGTERM');
      rmSync(record, { force: true });
    }
  });

  test('GIVEN a run whose workers started emulators WHEN it ends THEN the teardown stops each by its PID', async () => {
    const root = mkdtempSync(join(tmpdir(), 'worker-motos-'));
    const moto = await startMoto();
    try {
      writeFileSync(join(root, 'moto-of-worker-7.json'), JSON.stringify({ endpoint: moto.endpoint, pid: moto.pid }));
      writeFileSync(join(root, 'moto-of-worker-8.json'), JSON.stringify({ endpoint: 'http://127.0.0.1:1', pid: 2 ** 22 + 1 }));
      expect(stopWorkerMotos(root)).toEqual([moto.pid]);
      const answers = () =>
        fetch(`${moto.endpoint}/moto-api/data.json`).then(
          () => true,
          () => false,
        );
      for (let i = 0; i < 100 && (await answers()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await answers()).toBe(false);
    } finally {
      await moto.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

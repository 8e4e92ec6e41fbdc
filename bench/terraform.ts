import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/fabric-function';
import { DEFAULT_PROVIDER_MIRROR, findProviderMirror } from '../lib/local/environment';
import { startMoto } from '../lib/local/moto';
import { median } from './stats';

export interface TerraformRun {
  readonly initMs: number;
  readonly applyMs: number;
  readonly resources: number;
}

export interface TerraformConfigFigure {
  readonly name: string;
  readonly path: string;
  readonly runs: readonly TerraformRun[];
  readonly medianInitMs: number;
  readonly medianApplyMs: number;
  readonly resources: number;
  readonly msPerResource: number;
}

export interface TerraformFigure {
  readonly terraformVersion?: string;
  readonly configs: readonly TerraformConfigFigure[];
  readonly skipped?: string;
}

/**
 * One init + apply of a configuration against the emulator (bench/terraform-apply.sh), with the
 * same helpers the network job uses (buildspecs/scripts/lib.sh): the mirror CLI config, a staged
 * copy, and the generated emulator override file. The fabric network's S3 backend is swapped for a local one so both
 * configurations do the same work; the network job itself (S3 backend, plan file) is timed as the
 * NetworkJob state in the local section.
 */
const SCRIPT = join(PROJECT_ROOT, 'bench', 'terraform-apply.sh');

function runScript(env: NodeJS.ProcessEnv): Promise<TerraformRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`terraform failed (exit ${String(code)}):\n${stderr.split('\n').slice(-15).join('\n')}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as TerraformRun);
      } catch {
        reject(new Error(`unreadable result: ${stdout}`));
      }
    });
  });
}

function terraformVersion(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn('terraform', ['version', '-json'], {
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', () => resolve(undefined));
    child.on('close', () => {
      try {
        resolve((JSON.parse(out) as { terraform_version?: string }).terraform_version);
      } catch {
        resolve(undefined);
      }
    });
  });
}

export async function measureTerraform(options: { runs: number }): Promise<TerraformFigure> {
  const version = await terraformVersion();
  if (!version) return { configs: [], skipped: 'terraform is not on PATH' };
  const mirror = findProviderMirror();
  if (!mirror)
    return {
      terraformVersion: version,
      configs: [],
      skipped: `no Terraform provider mirror (TF_PLUGIN_MIRROR or ${DEFAULT_PROVIDER_MIRROR})`,
    };
  const moto = await startMoto();
  try {
    const base: NodeJS.ProcessEnv = {
      ...process.env,
      LIB: join(PROJECT_ROOT, 'buildspecs', 'scripts', 'lib.sh'),
      TF_PLUGIN_MIRROR: mirror,
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-east-2',
      AWS_DEFAULT_REGION: 'us-east-2',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const configs = [
      {
        name: 'fabric network (terraform/fabric-network + module terraform/network)',
        path: 'terraform/fabric-network',
        env: (i: number) => ({
          SRC: join(PROJECT_ROOT, 'terraform'),
          SUB: 'fabric-network',
          LOCAL_BACKEND: 'true',
          TFVARS: JSON.stringify({
            region: 'us-east-2',
            name: `bench${i}`,
            cluster_name: `bench${i}.fabric.example.com`,
            cidr: '10.10.0.0/16',
            zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'],
            tags: { 'fabricctl:bench': 'true' },
          }),
        }),
      },
      {
        name: 'reference (bench/reference-network: plain resources, no module)',
        path: 'bench/reference-network',
        env: () => ({ SRC: join(PROJECT_ROOT, 'bench', 'reference-network'), SUB: '.', LOCAL_BACKEND: 'false', TFVARS: '' }),
      },
    ];
    const results = configs.map(() => [] as TerraformRun[]);
    // Interleaved, so both see the same machine load over the section.
    for (let i = 0; i < options.runs; i += 1) {
      for (const [index, config] of configs.entries()) {
        results[index]?.push(await runScript({ ...base, ...config.env(i) }));
      }
    }
    return {
      terraformVersion: version,
      configs: configs.map((config, index) => {
        const runs = results[index] ?? [];
        const applyMs = median(runs.map((r) => r.applyMs));
        const resources = runs[0]?.resources ?? 0;
        return {
          name: config.name,
          path: config.path,
          runs,
          medianInitMs: median(runs.map((r) => r.initMs)),
          medianApplyMs: applyMs,
          resources,
          msPerResource: resources ? applyMs / resources : Number.NaN,
        };
      }),
    };
  } finally {
    await moto.stop();
  }
}

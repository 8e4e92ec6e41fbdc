import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * lib.sh's Terraform helpers read plans and applies through Terraform's -json events (the change
 * summary, the outputs, the log lines) instead of one more `terraform show` or `output`, and apply
 * in one process unless an approved plan must be held to its digest. Checked here with the real
 * Terraform on a configuration of `terraform_data` resources, which needs no provider: no emulator,
 * no provider mirror, a few seconds.
 */
const LIB = resolve(__dirname, '../../buildspecs/scripts/lib.sh');
const tool = (name: string, arg: string) => spawnSync(name, [arg], { stdio: 'ignore' }).status === 0;
const MISSING = [tool('terraform', 'version') ? '' : 'terraform', tool('jq', '--version') ? '' : 'jq'].filter(Boolean);
if (MISSING.length > 0) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED: lib.sh's Terraform helpers are not run: ${MISSING.join(' and ')} not on PATH.`);
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

(MISSING.length === 0 ? describe : describe.skip)("lib.sh's Terraform helpers (real Terraform, no provider)", () => {
  let dir: string;
  let work: string;

  /** Runs `script` with lib.sh sourced, in strict mode as the jobs run, in the configuration's folder. */
  const lib = (script: string, env: Record<string, string> = {}): Run => {
    const result = spawnSync('bash', ['-c', `set -o errexit -o nounset -o pipefail; source "$1"; ${script}`, 'lib-test', LIB], {
      env: { PATH: process.env.PATH, TMPDIR: work, TF_CLI_CONFIG_FILE: '/dev/null', DIR: dir, WORK: work, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
  };
  const configure = (tf: string) => writeFileSync(join(dir, 'main.tf'), tf);
  const twoResources = (second: string) =>
    'resource "terraform_data" "one" {\n  input = "one"\n}\n' +
    `resource "terraform_data" "two" {\n  input = "${second}"\n  triggers_replace = ["${second}"]\n}\n` +
    'output "ids" {\n  value = [terraform_data.one.id, terraform_data.two.id]\n}\n' +
    'output "second" {\n  value = terraform_data.two.output\n}\n';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tf-events-'));
    work = mkdtempSync(join(tmpdir(), 'tf-events-work-'));
    configure(twoResources('a'));
    expect(lib('terraform -chdir="$DIR" init -input=false -no-color >/dev/null').status).toBe(0);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  test("GIVEN nothing applied WHEN tf_apply runs THEN its events give Terraform's change count and the outputs the state holds", () => {
    const applied = lib(
      'tf_apply "$DIR" "$WORK/apply.events"; tf_changes "$WORK/apply.events"; tf_output "$DIR" second "$WORK/apply.events"',
    );
    expect(applied.status).toBe(0);
    expect(applied.stdout.split('\n')).toEqual(['{"add":2,"change":0,"destroy":0}', 'a']);
    // The log carries Terraform's own lines, streamed from the events.
    expect(applied.stderr).toContain('terraform_data.one: Plan to create');
    expect(applied.stderr).toContain('terraform_data.two: Creation complete');
    expect(applied.stderr).toContain('Apply complete! Resources: 2 added, 0 changed, 0 destroyed.');
    // A list output: JSON text, the same from the events as from the state.
    const fromEvents = lib('tf_output "$DIR" ids "$WORK/apply.events"');
    const fromState = lib('tf_output "$DIR" ids');
    expect(JSON.parse(fromEvents.stdout)).toHaveLength(2);
    expect(fromEvents.stdout).toBe(fromState.stdout);
  });

  test('GIVEN a change that replaces a resource WHEN planned THEN the replacement counts once to add and once to destroy', () => {
    configure(twoResources('b'));
    const planned = lib('tf_plan "$DIR" "$WORK/replace.tfplan" -lock=false; tf_changes "$WORK/replace.tfplan.events"');
    expect(planned.status).toBe(0);
    expect(planned.stdout).toBe('{"add":1,"change":0,"destroy":1}');
    expect(planned.stderr).toContain('Plan: 1 to add, 0 to change, 1 to destroy.');
  });

  test('GIVEN an approved digest WHEN the plan is the same THEN tf_apply_as_approved applies it; else PlanChanged, nothing applied', () => {
    configure(twoResources('c'));
    const digest = lib('tf_plan "$DIR" "$WORK/approved.tfplan"; tf_plan_digest "$DIR" "$WORK/approved.tfplan"').stdout;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);

    configure(twoResources('d'));
    const refused = lib('tf_apply_as_approved "$DIR" "$WORK/again.tfplan" "$WORK/refused.events"', { APPROVED_PLAN_DIGEST: digest });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('PlanChanged');
    expect(lib('tf_output "$DIR" second').stdout).toBe('a');

    configure(twoResources('c'));
    const approved = lib('tf_apply_as_approved "$DIR" "$WORK/held.tfplan" "$WORK/held.events"; tf_changes "$WORK/held.events"', {
      APPROVED_PLAN_DIGEST: digest,
    });
    expect(approved.status).toBe(0);
    expect(approved.stderr).toContain(`the plan is the approved one (${digest})`);
    expect(approved.stdout).toBe('{"add":1,"change":0,"destroy":1}');
    expect(lib('tf_output "$DIR" second').stdout).toBe('c');
  });

  test("GIVEN a plan file planned again WHEN its digest is read THEN it is the new plan's, not the JSON kept from the first", () => {
    configure(twoResources('e'));
    const first = lib('tf_plan "$DIR" "$WORK/twice.tfplan" -lock=false; tf_plan_digest "$DIR" "$WORK/twice.tfplan"').stdout;
    configure(twoResources('f'));
    const again = lib('tf_plan "$DIR" "$WORK/twice.tfplan" -lock=false; tf_plan_digest "$DIR" "$WORK/twice.tfplan"').stdout;
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(again).toMatch(/^[0-9a-f]{64}$/);
    expect(again).not.toBe(first);
  });

  test("fails when Terraform fails: the job stops naming the command, with Terraform's error and its detail in the log", () => {
    configure('resource "terraform_data" "broken" {\n  input = nope\n}\n');
    const failed = lib('tf_apply "$DIR" "$WORK/failed.events"; echo "not reached"');
    expect(failed.status).not.toBe(0);
    expect(failed.stdout).not.toContain('not reached');
    expect(failed.stderr).toContain('Error: Invalid reference');
    expect(failed.stderr).toMatch(/\n {2}A reference to a resource type must be followed/);
    expect(failed.stderr).toContain('terraform apply failed (errors above)');
  });

  test("GIVEN the job's Terraform settings THEN Go's collector runs at GOGC=400 unless the build's environment sets GOGC", () => {
    expect(lib('tf_cli_config; printf %s "$GOGC"').stdout).toBe('400');
    expect(lib('tf_cli_config; printf %s "$GOGC"', { GOGC: '150' }).stdout).toBe('150');
    expect(lib('tf_cli_config; bash -c \'printf %s "$GOGC"\'').stdout).toBe('400');
  });

  test('fails when the events hold no change summary, instead of reporting made-up counts', () => {
    writeFileSync(join(work, 'empty.events'), '{"type":"version","@message":"Terraform 1.11.4"}\n');
    const read = lib('tf_changes "$WORK/empty.events"');
    expect(read.status).not.toBe(0);
    expect(read.stderr).toContain('Terraform reported no change_summary event');
  });
});

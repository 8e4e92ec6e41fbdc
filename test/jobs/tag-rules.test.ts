import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_TAGS, parseFabricSpec, TAG_CHARACTER_CLASS } from '../../lib/domain/spec';

/**
 * The build jobs check tags again (lib.sh `require_carried_tags`) so that a job started by hand
 * fails before kops or Terraform run. Its rules must be the schema's: each case below goes
 * through both and must get the same verdict.
 */
const LIB = resolve(__dirname, '../../buildspecs/scripts/lib.sh');
const JQ = spawnSync('jq', ['--version'], { stdio: 'ignore' }).status === 0;
if (!JQ) {
  // eslint-disable-next-line no-console
  console.warn("SKIPPED: jq is not installed (Debian: apt-get install jq), so the jobs' tag check is not compared with the schema.");
}

function schemaAccepts(tags: Record<string, unknown>): boolean {
  try {
    parseFabricSpec({ name: 'demo', domain: 'example.com', tags });
    return true;
  } catch {
    return false;
  }
}

function scriptRun(tags: Record<string, unknown>): { accepted: boolean; stderr: string } {
  const result = spawnSync(
    'bash',
    ['-c', 'set -o errexit -o nounset -o pipefail; source "$1"; require_carried_tags TAGS_JSON', 'tag-rules', LIB],
    {
      env: { PATH: process.env.PATH, TAGS_JSON: JSON.stringify(tags) },
      encoding: 'utf8',
    },
  );
  return { accepted: result.status === 0, stderr: result.stderr };
}

const many = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`tag${i}`, 'x']));

(JQ ? describe : describe.skip)('tag rules: the jobs and the schema agree', () => {
  test("GIVEN lib.sh WHEN read THEN it uses the schema's character class and tag limit", () => {
    const text = readFileSync(LIB, 'utf8');
    expect(text).toContain(`FABRIC_TAG_CHARACTERS='${TAG_CHARACTER_CLASS}'`);
    expect(text).toContain(`FABRIC_MAX_TAGS=${MAX_TAGS}\n`);
  });

  test.each<[string, Record<string, unknown>, boolean]>([
    ['ordinary tags', { team: 'platform', 'cost-center': 'k8s 1' }, true],
    ['Unicode letters and every allowed symbol', { Équipe: 'Données', 'a_b.c:d/e+f@g': 'x-y', empty: '' }, true],
    ['constructor and prototype keys', { constructor: 'c', prototype: 'p' }, true],
    ['the most tags', many(MAX_TAGS), true],
    ['a key of 128 code points', { ['𝒜'.repeat(128)]: 'x' }, true],
    ['one tag too many', many(MAX_TAGS + 1), false],
    ['a key of 129 code points', { ['𝒜'.repeat(129)]: 'x' }, false],
    ['a value of 257 characters', { team: 'v'.repeat(257) }, false],
    ['an empty key', { '': 'x' }, false],
    ['a comma in a key', { 'a,b': 'x' }, false],
    ['an equals sign in a value', { team: 'v=1' }, false],
    ['a hash in a value', { team: '#1' }, false],
    ['an exclamation mark in a key', { 'owner!': 'x' }, false],
    ['a double quote in a value', { team: 'say "hi"' }, false],
    ['a newline in a value', { team: 'two\nlines' }, false],
    ['a leading space in a key', { ' team': 'x' }, false],
    ['a leading no-break space in a value', { team: '\u00a0x' }, false],
    ['the key Name', { Name: 'x' }, false],
    ['the key name', { name: 'x' }, false],
    ['the key KubernetesCluster', { KubernetesCluster: 'x' }, false],
    ['a kubernetes.io/ key', { 'kubernetes.io/cluster/demo.example.com': 'owned' }, false],
    ['a K8S.io/ key', { 'K8S.io/role/node': '1' }, false],
    ['a kops.k8s.io/ key', { 'kops.k8s.io/instancegroup': 'nodes' }, false],
    ['an aws-node-termination-handler/ key', { 'aws-node-termination-handler/managed': '' }, false],
    ['a fabricctl: key', { 'fabricctl:fabric': 'x' }, false],
    ['an AWS: key', { 'AWS:owner': 'x' }, false],
    ['an aws: value', { team: 'aws:x' }, false],
    ['keys that differ only in case', { Team: 'a', team: 'b' }, false],
    ['a __proto__ key', JSON.parse('{"__proto__": "x"}') as Record<string, unknown>, false],
    ['a value that is not text', { replicas: 3 }, false],
  ])('GIVEN %s WHEN checked by the schema and by lib.sh THEN both give the same verdict', (_, tags, accepted) => {
    expect(schemaAccepts(tags)).toBe(accepted);
    const run = scriptRun(tags);
    expect(run.accepted).toBe(accepted);
    if (!accepted)
      expect(run.stderr).toMatch(/ERROR: TAGS_JSON (holds tags kops or AWS cannot carry|must be a JSON object of string values)/);
  });
});

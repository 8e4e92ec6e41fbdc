import { BlockList } from 'node:net';
import * as z from './zod';
import { networkOf } from './cidr';
import { FabricSpecInvalid, Problem, problem } from './errors';
import { formatDuration, parseDuration } from './duration';
import { nameProblem, normaliseName } from './names';
import { nestingProblem } from './spec-document';

/**
 * The fabric spec: the one contract shared by the state machine, the CLI and the git trigger.
 * `fabricSpecSchema` is the only definition; `FabricSpec` is derived from it. Every rule fails in
 * ValidateSpec, before anything exists, with a message that says what to write instead: a spec
 * that passes here must not make a build job fail on its input after the VPC exists.
 */

export const DEFAULT_REGION = 'us-east-2';
/** An AWS region name (`us-east-2`, `us-gov-west-1`...); a zone name is one with a letter after it. */
export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
const ZONE_PATTERN = new RegExp(`${REGION_PATTERN.source.slice(0, -1)}[a-z]$`);
export const DEFAULT_CIDR = '10.10.0.0/16';
export const DEFAULT_KUBERNETES_VERSION = '1.35.0';
/** Shortest and longest lease of a fabric with `expiresAfter`: a sweep runs every 15 minutes. */
export const MIN_LEASE_SECONDS = 3600;
export const MAX_LEASE_SECONDS = 90 * 86400;
/** Whether a provision stops after the plan for a person's approval (`required`) or applies it. */
export const APPROVAL_MODES = ['required', 'auto'] as const;

/**
 * The Kubernetes releases kops 1.36 builds: minor -> newest patch; every patch from .0 up to it.
 * Minors 1.30 to 1.36: kops builds Kubernetes up to its own minor (kops 1.36.2, buildspecs/tools.env)
 * and the older minors it has not dropped; the vendored kops reference
 * (lib/local/standins/kops/reference/) lists no versions, and its golden HA cluster spec
 * (golden/ha/in-v1alpha2.yaml) runs v1.32.0. Patches: kops keeps no list; it fetches a release's
 * binaries and hashes from dl.k8s.io when it builds the cluster, so a patch never published fails
 * in the cluster job, after the network exists. Ceilings: 1.30.14, 1.31.14 and 1.32.13 are the
 * final patches (kubernetes/website data/releases/eol.yaml); 1.33.10, 1.34.9, 1.35.9 and 1.36.4 are
 * the newest seen on kubernetes.io/releases/<minor> (pages of March to September 2026); newer ones
 * may exist. Raise a ceiling when a newer patch is wanted; nothing else needs to change.
 */
export const KUBERNETES_RELEASES: Readonly<Record<number, number>> = { 30: 14, 31: 14, 32: 13, 33: 10, 34: 9, 35: 9, 36: 4 };

/** `--networking` values listed by kops 1.36 `create cluster --help`. */
export const KOPS_NETWORKING = [
  'kubenet',
  'external',
  'flannel-vxlan',
  'flannel',
  'flannel-udp',
  'calico',
  'kube-router',
  'amazonvpc',
  'cilium',
  'cilium-etcd',
  'kindnet',
  'cni',
] as const;

/** EC2 instance type, family.size: t3.medium, m7g.large, c6in.2xlarge, c7i-flex.large, u-6tb1.metal, m7i.metal-24xl. */
export const INSTANCE_TYPE_PATTERN =
  /^([a-z]+\d+[a-z]*(-[a-z0-9]+)?|u-\d+tb\d+)\.(nano|micro|small|medium|large|xlarge|[1-9]\d*xlarge|metal(-\d+xl)?)$/;
/** Sizes with 2 GiB of memory or less: too small for etcd, the API server and kops's controllers together. */
const TOO_SMALL_FOR_CONTROL_PLANE = new Set(['nano', 'micro', 'small']);

/**
 * Characters a tag may hold, as a regular-expression class: AWS's cross-service set (letters,
 * digits, spaces and `_ . : / = + - @`; IAM, ELB and Secrets Manager accept no more, and kops tags
 * IAM roles and load balancers with them) minus `=`, which kops's `--cloud-labels key=value,...`
 * cannot carry (`,` is outside the set already). buildspecs/scripts/lib.sh checks the same class.
 */
export const TAG_CHARACTER_CLASS = '\\p{L}\\p{Z}\\p{N}_.:/+@-';
/**
 * AWS allows 50 tags a resource; kops puts 10 of its own on each control-plane instance, volume,
 * launch template and auto scaling group (golden/ha/kubernetes.tf), the network job at most 4.
 */
export const MAX_TAGS = 40;
/** Tag keys the jobs, kops or Kubernetes set themselves; compared ignoring case, as IAM compares tag keys. */
const RESERVED_TAG_KEYS: readonly { readonly key: string; readonly why: string }[] = [
  { key: 'Name', why: 'fabricctl and kops set Name on every resource they create' },
  { key: 'KubernetesCluster', why: 'kops sets KubernetesCluster to the cluster name' },
];
const RESERVED_TAG_PREFIXES: readonly { readonly prefix: string; readonly why: string }[] = [
  { prefix: 'aws:', why: 'AWS reserves the prefix, in any case' },
  { prefix: 'fabricctl:', why: 'fabricctl tags its resources with fabricctl:fabric' },
  {
    prefix: 'kubernetes.io/',
    why: "kops and Kubernetes tag the cluster's resources with kubernetes.io/cluster/<cluster> and kubernetes.io/role/...",
  },
  { prefix: 'k8s.io/', why: 'kops tags instance groups with k8s.io/role/... and k8s.io/cluster-autoscaler/...' },
  { prefix: 'kops.k8s.io/', why: 'kops tags instance groups with kops.k8s.io/instancegroup' },
  { prefix: 'aws-node-termination-handler/', why: 'kops sets aws-node-termination-handler/managed on instance groups' },
];

const PRIVATE_RANGES = new BlockList();
PRIVATE_RANGES.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE_RANGES.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE_RANGES.addSubnet('192.168.0.0', 16, 'ipv4');

// ---------- names ----------

// In names.ts, which the entry points that must not load zod (the GitHub webhook) import alone.
export { nameProblem, normaliseName };

// ---------- tags ----------

const TAG_CHARACTER = new RegExp(`[${TAG_CHARACTER_CLASS}]`, 'u');

/** Code points, as AWS counts a tag's length (and jq's `length` does in lib.sh). */
function characters(text: string): string[] {
  return [...text];
}

/** ASCII case folding only, like jq's ascii_downcase in lib.sh, so both refuse the same keys. */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** What to do about the characters of a tag key or value, or `undefined` when every one can be carried. */
function tagCharactersProblem(text: string, what: 'key' | 'value'): string | undefined {
  const bad = [...new Set(characters(text).filter((c) => !TAG_CHARACTER.test(c)))];
  if (bad.length > 0) {
    const listed = bad.map((c) => JSON.stringify(c)).join(' ');
    const why = bad.some((c) => c === ',' || c === '=')
      ? 'kops takes tags as --cloud-labels key=value,key=value, so neither , nor = can be carried; '
      : '';
    return (
      `remove ${listed} from the ${what}: ${why}` +
      `AWS tags (IAM roles, load balancers, secrets) allow only letters, digits, spaces and _ . : / + - @`
    );
  }
  if (/^\p{Z}/u.test(text))
    return (
      `remove the leading space from the ${what}: kops drops it from --cloud-labels, ` +
      `so the cluster's tags would differ from the network's`
    );
  return undefined;
}

/** What to do about one tag key, or `undefined` when it is fine. */
function tagKeyProblem(key: string): string | undefined {
  // JavaScript readers treat __proto__ as the object's prototype: the tag would vanish or pollute.
  if (key === '__proto__')
    return 'rename the key, e.g. "proto": JavaScript readers of the spec drop a __proto__ key or take it for the object\'s prototype';
  const length = characters(key).length;
  if (length === 0) return 'give the tag a key of 1 to 128 characters, e.g. "team"';
  if (length > 128) return `shorten the key to at most 128 characters (AWS's limit); it has ${length}`;
  const chars = tagCharactersProblem(key, 'key');
  if (chars) return chars;
  const lower = asciiLower(key);
  const reservedKey = RESERVED_TAG_KEYS.find((r) => asciiLower(r.key) === lower);
  if (reservedKey) {
    const caseNote = key === reservedKey.key ? '' : ` (IAM treats "${key}" and "${reservedKey.key}" as one key)`;
    return `rename the key, e.g. "team" or "cost-center": ${reservedKey.why}${caseNote}`;
  }
  const reservedPrefix = RESERVED_TAG_PREFIXES.find((r) => lower.startsWith(r.prefix));
  if (reservedPrefix) return `rename the key so it does not start with "${reservedPrefix.prefix}": ${reservedPrefix.why}`;
  return undefined;
}

/** What to do about one tag value, or `undefined` when it is fine. */
function tagValueProblem(value: string): string | undefined {
  const length = characters(value).length;
  if (length > 256) return `shorten the value to at most 256 characters (AWS's limit); it has ${length}`;
  const chars = tagCharactersProblem(value, 'value');
  if (chars) return chars;
  if (asciiLower(value).startsWith('aws:'))
    return 'change the value so it does not start with aws: (AWS reserves that prefix for keys and values)';
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

type Rules = 'new-run' | 'recorded';

/**
 * Tags are read from the raw document, not through `z.record`: a record silently drops a
 * `__proto__` key (or, with an object value, makes it the result's prototype), and a tag that
 * vanishes is worse than one refused. The result is built with `Object.fromEntries`, which defines
 * own properties only, so `constructor` and `prototype` are ordinary keys.
 */
function tagsSchema(rules: Rules) {
  const tagObject = z.custom<Record<string, string>>(isPlainObject, {
    error: 'write tags as an object of text values, e.g. {"team": "platform"}',
    abort: true,
  });
  return z.pipe(
    tagObject.check(
      z.superRefine((tags, ctx) => {
        const entries = Object.entries(tags as Record<string, unknown>);
        for (const [key, value] of entries) {
          if (typeof value !== 'string') {
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message:
                `write the value as text, e.g. "${typeof value === 'number' ? String(value) : 'platform'}" ` +
                `(AWS tag values are strings)`,
            });
          }
        }
        if (rules === 'recorded') return;
        const seen = new Map<string, string>();
        for (const [key, value] of entries) {
          const keyFix = tagKeyProblem(key);
          if (keyFix) ctx.addIssue({ code: 'custom', path: [key], message: keyFix, params: { received: key } });
          const valueFix = typeof value === 'string' ? tagValueProblem(value) : undefined;
          if (valueFix) ctx.addIssue({ code: 'custom', path: [key], message: valueFix });
          const other = seen.get(asciiLower(key));
          if (other !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [key],
              params: { received: key },
              message:
                `keep one of "${other}" and "${key}": ` +
                `IAM, where kops also puts these tags, treats keys that differ only in case as one key`,
            });
          }
          seen.set(asciiLower(key), key);
        }
        if (entries.length > MAX_TAGS) {
          ctx.addIssue({
            code: 'custom',
            params: { received: `${entries.length} tags` },
            message:
              `remove ${entries.length - MAX_TAGS} tag(s): at most ${MAX_TAGS} ` +
              `(AWS allows 50 a resource and kops adds 10 of its own to the control-plane instances)`,
          });
        }
      }),
    ),
    z.transform((tags) => Object.fromEntries(Object.entries(tags)) as Record<string, string>),
  );
}

// ---------- CIDRs ----------

const CIDR_EXAMPLE = 'such as 203.0.113.0/24 or 2001:db8::/32';
/**
 * The orchestrator reaches each cluster's API from outside its VPC (CheckReadiness, kops's rolling
 * update in the cluster job), from AWS addresses that are not fixed: the API must admit them.
 */
const API_OPEN_TO_ALL = '0.0.0.0/0';

/** A list of CIDRs for a security group: each in the provider's spelling, none twice. */
function cidrListSchema(list: 'api' | 'ssh', rules: Rules) {
  const cidrSchema = z.string({ error: `write each CIDR as text, ${CIDR_EXAMPLE}` }).check(
    z.superRefine((cidr, ctx) => {
      const parsed = networkOf(cidr);
      if (!parsed) {
        ctx.addIssue({ code: 'custom', message: `use a CIDR ${CIDR_EXAMPLE}` });
        return;
      }
      if (rules === 'recorded') return;
      if (parsed.hostBitsSet) {
        ctx.addIssue({
          code: 'custom',
          message: `use ${parsed.network}, the network of this CIDR: the AWS provider refuses a CIDR with host bits set`,
        });
      } else if (parsed.network !== cidr) {
        ctx.addIssue({ code: 'custom', message: `write it as ${parsed.network}: the AWS provider accepts a CIDR only in that spelling` });
      } else if (list === 'ssh' && parsed.prefix === 0) {
        ctx.addIssue({
          code: 'custom',
          message:
            'list only the ranges that need SSH, e.g. your office or VPN range 203.0.113.0/24, ' +
            'or leave access.ssh empty to keep SSH closed: SSH must not be open to the whole internet',
        });
      }
    }),
  );
  const example = list === 'api' ? `["${API_OPEN_TO_ALL}"]` : '["203.0.113.0/24"]';
  return z.array(cidrSchema, { error: `write access.${list} as a list of CIDRs, e.g. ${example}` }).check(
    z.maxLength(50, { message: `list at most 50 CIDRs in access.${list} (each is a security group rule)` }),
    z.superRefine((cidrs, ctx) => {
      if (rules === 'recorded') return;
      const first = new Map<string, number>();
      cidrs.forEach((cidr, index) => {
        const at = first.get(cidr);
        if (at === undefined) first.set(cidr, index);
        else
          ctx.addIssue({
            code: 'custom',
            path: [index],
            message: `remove the duplicate: ${cidr} is already access.${list}.${at} (AWS refuses a duplicate security group rule)`,
          });
      });
    }),
  );
}

// ---------- Kubernetes ----------

function releaseRanges(): string {
  return Object.entries(KUBERNETES_RELEASES)
    .map(([minor, patch]) => `1.${minor}.0 to 1.${minor}.${patch}`)
    .join(', ');
}

/** What to do about a Kubernetes version (without its `v`), or `undefined` when kops 1.36 builds it. */
function versionProblem(version: string, rules: Rules): string | undefined {
  const match = /^1\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/.exec(version);
  if (!match) return `use a Kubernetes release, major.minor.patch, such as ${DEFAULT_KUBERNETES_VERSION}`;
  if (rules === 'recorded') return undefined;
  const minor = Number(match[1]);
  const patch = Number(match[2]);
  const ceiling = KUBERNETES_RELEASES[minor];
  if (ceiling === undefined)
    return `use a release kops 1.36 builds (Kubernetes 1.30 to 1.36): ${releaseRanges()}; e.g. 1.36.${KUBERNETES_RELEASES[36] ?? 0}`;
  if (patch > ceiling)
    return (
      `use 1.${minor}.0 to 1.${minor}.${ceiling}: 1.${minor}.${patch} is not a Kubernetes release kops 1.36 is known to build ` +
      `(kops fetches its binaries when it builds the cluster)`
    );
  return undefined;
}

function instanceTypeSchema(role: 'controlPlaneSize' | 'nodeSize', rules: Rules) {
  const example = 'use an EC2 instance type, family.size, such as t3.medium, m7g.large or c6in.2xlarge';
  const instanceType = z.string({ error: example }).check(
    z.superRefine((type, ctx) => {
      if (rules === 'recorded') {
        if (type.length === 0) ctx.addIssue({ code: 'custom', message: example });
        return;
      }
      if (!INSTANCE_TYPE_PATTERN.test(type)) {
        ctx.addIssue({ code: 'custom', message: example });
        return;
      }
      const size = type.slice(type.indexOf('.') + 1);
      if (role === 'controlPlaneSize' && TOO_SMALL_FOR_CONTROL_PLANE.has(size)) {
        ctx.addIssue({
          code: 'custom',
          message:
            `use size medium or larger for the control plane, e.g. t3.medium: ` +
            `each control-plane node runs etcd, the API server and kops's controllers, ` +
            `which do not fit in the 2 GiB or less of a ${size} type`,
        });
      }
    }),
  );
  return z._default(instanceType, 't3.medium');
}

// ---------- the spec ----------

function objectError(field: string, example: string) {
  return (issue: { code: string }) => (issue.code === 'invalid_type' ? `write ${field} as an object, e.g. ${example}` : undefined);
}

const nodeCount = (field: 'min' | 'max', fallback: number) =>
  z._default(
    z
      .int({ error: `set nodes.${field} to a whole number from 1 to 100` })
      .check(
        z.gte(1, { error: `set nodes.${field} to a whole number from 1 to 100` }),
        z.lte(100, { error: `set nodes.${field} to a whole number from 1 to 100` }),
      ),
    fallback,
  );

/**
 * The spec schema. `new-run` is every rule; `recorded` reads a spec an earlier run recorded
 * (destroy by name): the same shape and defaults, without the rules that only guard creating
 * resources (tag content, CIDR spelling, SSH exposure, instance types, Kubernetes patches), so a
 * fabric accepted under older rules, or one whose run failed on such a value, can still be destroyed.
 */
function buildSpecSchema(rules: Rules) {
  const networkSchema = z.prefault(
    z.strictObject(
      {
        cidr: z
          ._default(
            // abort: the prefix and range checks below mean nothing for a value that is not a CIDR.
            z.cidrv4({ error: 'use a private IPv4 CIDR such as 10.10.0.0/16', abort: true }),
            DEFAULT_CIDR,
          )
          .check(
            z.superRefine((cidr, ctx) => {
              const parsed = networkOf(cidr);
              if (!parsed) return;
              if (parsed.prefix < 16 || parsed.prefix > 22) {
                ctx.addIssue({
                  code: 'custom',
                  message: `use a prefix from /16 to /22 (room for one subnet per zone, and growth); got /${parsed.prefix}`,
                });
                return;
              }
              if (parsed.hostBitsSet) {
                ctx.addIssue({ code: 'custom', message: `use ${parsed.network}: the host bits of ${cidr} are set` });
                return;
              }
              if (!PRIVATE_RANGES.check(parsed.first, 'ipv4') || !PRIVATE_RANGES.check(parsed.last, 'ipv4')) {
                ctx.addIssue({
                  code: 'custom',
                  message: 'use a private range (RFC 1918): inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16',
                });
              }
            }),
          ),
      },
      { error: objectError('network', '{"cidr": "10.10.0.0/16"}') },
    ),
    {},
  );

  const kubernetesSchema = z.prefault(
    z.strictObject(
      {
        version: z._default(
          z.pipe(
            z.pipe(
              z.string({ error: `use a Kubernetes version such as ${DEFAULT_KUBERNETES_VERSION}` }),
              z.transform((v: string) => v.replace(/^v/, '')),
            ),
            z.string().check(
              z.superRefine((version, ctx) => {
                const fix = versionProblem(version, rules);
                if (fix) ctx.addIssue({ code: 'custom', message: fix });
              }),
            ),
          ),
          DEFAULT_KUBERNETES_VERSION,
        ),
        networking: z._default(
          z.enum(KOPS_NETWORKING, {
            error: `use one of the networking options kops 1.36 offers: ${KOPS_NETWORKING.join(', ')} (cilium when left out)`,
          }),
          'cilium',
        ),
        controlPlaneSize: instanceTypeSchema('controlPlaneSize', rules),
        nodeSize: instanceTypeSchema('nodeSize', rules),
        nodes: z
          .prefault(
            z.strictObject(
              { min: nodeCount('min', 3), max: nodeCount('max', 6) },
              { error: objectError('kubernetes.nodes', '{"min": 3, "max": 6}') },
            ),
            {},
          )
          .check(
            z.superRefine((n, ctx) => {
              if (n.min > n.max)
                ctx.addIssue({
                  code: 'custom',
                  path: ['min'],
                  message: `lower nodes.min to nodes.max (${n.max}) or less, or raise nodes.max to ${n.min} or more`,
                });
            }),
          ),
      },
      { error: objectError('kubernetes', '{"version": "1.35.0"}') },
    ),
    {},
  );

  const accessSchema = z.prefault(
    z.strictObject(
      {
        /** CIDRs allowed to reach the Kubernetes API: 0.0.0.0/0 among them (README, Known limits). */
        api: z._default(
          cidrListSchema('api', rules).check(
            z.superRefine((cidrs, ctx) => {
              if (rules === 'recorded' || cidrs.includes(API_OPEN_TO_ALL)) return;
              ctx.addIssue({
                code: 'custom',
                message:
                  `keep ${API_OPEN_TO_ALL} in access.api: fabricctl's readiness check and kops's rolling-update validation ` +
                  "reach the API from AWS addresses outside the fabric's VPC, which change, so a narrower list stalls " +
                  'every provision; the API still authenticates every request',
              });
            }),
          ),
          [API_OPEN_TO_ALL],
        ),
        /** CIDRs allowed to SSH to the nodes; closed unless listed. */
        ssh: z._default(cidrListSchema('ssh', rules), []),
      },
      { error: objectError('access', '{"api": ["0.0.0.0/0"], "ssh": ["203.0.113.0/24"]}') },
    ),
    {},
  );

  const zoneText = 'use an availability zone name: the region and one letter, such as us-east-2a';

  const specObject = z.strictObject(
    {
      name: z.pipe(
        z
          .string({
            error: (issue) =>
              issue.input === undefined
                ? 'add "name", e.g. "demo": the fabric\'s name (its branch is fabric/<name>)'
                : 'write the name as text, e.g. "demo"',
          })
          .check(
            z.superRefine((raw, ctx) => {
              const fix = nameProblem(raw);
              if (fix) ctx.addIssue({ code: 'custom', message: fix });
            }),
          ),
        z.transform(normaliseName),
      ),
      domain: z.pipe(
        z.pipe(
          z.string({
            error: (issue) =>
              issue.input === undefined
                ? 'add "domain", e.g. "example.com": the public Route 53 hosted zone the cluster is named under'
                : 'write the domain as text, e.g. "example.com"',
          }),
          z.transform((d: string) => d.trim().toLowerCase().replace(/\.$/, '')),
        ),
        z.string().check(
          z.regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
            message: 'use a DNS domain such as example.com: the name of a public Route 53 hosted zone in this account',
          }),
        ),
      ),
      region: z._default(
        z
          .string({ error: 'use an AWS region name such as us-east-2' })
          .check(z.regex(REGION_PATTERN, { message: 'use an AWS region name such as us-east-2' })),
        DEFAULT_REGION,
      ),
      zones: z.optional(
        z.array(z.string({ error: zoneText }).check(z.regex(ZONE_PATTERN, { message: zoneText })), {
          error: 'list the zones, e.g. ["us-east-2a", "us-east-2b", "us-east-2c"]',
        }),
      ),
      zoneCount: z.optional(
        z.union([z.literal(3), z.literal(5)], { error: 'use 3 or 5: an odd number of control-plane nodes keeps etcd quorum' }),
      ),
      network: networkSchema,
      kubernetes: kubernetesSchema,
      access: accessSchema,
      tags: z._default(tagsSchema(rules), {}),
      /** Destroy refuses until a provision has recorded `protected: false`. */
      protected: z._default(z.boolean({ error: 'write protected as true or false' }), false),
      /** A dev fabric's lease: destroyed automatically this long after it is first READY. */
      expiresAfter: z.optional(
        z.string({ error: 'write expiresAfter as a duration such as "72h" or "14d"' }).check(
          z.superRefine((text, ctx) => {
            const seconds = parseDuration(text);
            if (seconds === undefined)
              ctx.addIssue({ code: 'custom', message: 'write a whole number and a unit (m, h or d), such as "72h" or "14d"' });
            else if (seconds < MIN_LEASE_SECONDS || seconds > MAX_LEASE_SECONDS) {
              ctx.addIssue({
                code: 'custom',
                message: `use a lease from ${formatDuration(MIN_LEASE_SECONDS)} to ${formatDuration(MAX_LEASE_SECONDS)}`,
              });
            }
          }),
        ),
      ),
      /** `required`: provision stops after the plan until approved. Default: required when protected. */
      approve: z.optional(z.enum(APPROVAL_MODES, { error: 'use "required" (stop after the plan for approval) or "auto"' })),
    },
    { error: objectError('the spec', '{"name": "demo", "domain": "example.com"}') },
  );

  return z.pipe(
    specObject.check(
      z.superRefine((spec, ctx) => {
        if (spec.protected && spec.expiresAfter !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['expiresAfter'],
            message: 'drop expiresAfter or set protected to false: a protected fabric is never destroyed automatically',
          });
        }
        if (spec.zones === undefined) return;
        const first = new Map<string, number>();
        spec.zones.forEach((zone, index) => {
          const at = first.get(zone);
          if (at === undefined) first.set(zone, index);
          else
            ctx.addIssue({ code: 'custom', path: ['zones', index], message: `remove the repeated zone: ${zone} is already zones.${at}` });
        });
        if (spec.zones.length !== 3 && spec.zones.length !== 5) {
          ctx.addIssue({
            code: 'custom',
            path: ['zones'],
            message: `list 3 or 5 zones (an odd count keeps etcd quorum); got ${spec.zones.length}`,
          });
        }
        if (spec.zoneCount !== undefined && spec.zoneCount !== spec.zones.length) {
          ctx.addIssue({
            code: 'custom',
            path: ['zoneCount'],
            message: `drop zoneCount or the pinned zones: zoneCount ${spec.zoneCount} disagrees with the ${spec.zones.length} zones listed`,
          });
        }
        // Only the region's own zones: us-east-2 plus one letter (us-east-21a is another region's).
        if (!REGION_PATTERN.test(spec.region)) return;
        spec.zones.forEach((zone, index) => {
          if (ZONE_PATTERN.test(zone) && !(zone.length === spec.region.length + 1 && zone.startsWith(spec.region))) {
            ctx.addIssue({
              code: 'custom',
              path: ['zones', index],
              message: `use a zone of region ${spec.region}: ${spec.region} and one letter, such as ${spec.region}a`,
            });
          }
        });
      }),
    ),
    z.transform(({ zoneCount, ...spec }: z.output<typeof specObject>) => ({
      ...spec,
      zoneCount: (spec.zones?.length ?? zoneCount ?? 3) as 3 | 5,
    })),
  );
}

export const fabricSpecSchema = buildSpecSchema('new-run');
/** A spec recorded by an earlier run, read back to destroy the fabric (see `buildSpecSchema`). */
export const recordedSpecSchema = buildSpecSchema('recorded');

/** A spec as a user writes it. */
export type FabricSpecInput = z.input<typeof fabricSpecSchema>;
/** A validated spec with every default filled in. */
export type FabricSpec = z.output<typeof fabricSpecSchema>;

// ---------- documents and problems ----------

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    // Own properties only: a key such as __proto__ or constructor must not reach the prototype.
    if (!Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Turns zod issues into problems that name the field, the value received and the fix. */
export function toProblems(error: z.core.$ZodError, input: unknown, prefix = ''): Problem[] {
  return error.issues.flatMap((issue) => {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) =>
        problem(
          `${prefix}${base ? `${base}.` : ''}${key}`,
          valueAt(input, [...issue.path, key]),
          'remove this unknown field or correct its spelling (see the spec reference in README.md)',
        ),
      );
    }
    const received = issue.code === 'custom' && issue.params?.received !== undefined ? issue.params.received : valueAt(input, issue.path);
    return [problem(`${prefix}${base || '(spec)'}`, received, issue.message)];
  });
}

/** Validates and normalises a spec, or throws `FabricSpecInvalid` listing every problem. */
export function parseFabricSpec(input: unknown): FabricSpec {
  const deep = nestingProblem(input);
  if (deep) throw new FabricSpecInvalid([deep]);
  const result = fabricSpecSchema.safeParse(input);
  if (!result.success) throw new FabricSpecInvalid(toProblems(result.error, input));
  return result.data;
}

export function clusterNameOf(spec: Pick<FabricSpec, 'name' | 'domain'>): string {
  return `${spec.name}.${spec.domain}`;
}

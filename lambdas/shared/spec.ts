import { BlockList } from 'node:net';
import { z } from 'zod';
import { FabricSpecInvalid, Problem, problem } from './errors';

/**
 * The fabric spec: the one contract shared by the state machine, the CLI and the git trigger.
 * `fabricSpecSchema` is the only definition; `FabricSpec` is derived from it.
 */

export const DEFAULT_REGION = 'us-east-2';
/** An AWS region name (`us-east-2`, `us-gov-west-1`...); a zone name is one with a letter after it. */
export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
const ZONE_PATTERN = new RegExp(`${REGION_PATTERN.source.slice(0, -1)}[a-z]$`);
export const DEFAULT_CIDR = '10.10.0.0/16';
/** Kubernetes minor versions we let kops 1.36 build; the default is one behind the newest. */
export const KUBERNETES_MINOR_RANGE = { min: 30, max: 36 } as const;
export const DEFAULT_KUBERNETES_VERSION = '1.35.0';
/** `--networking` values listed by kops 1.36 `create cluster --help`. */
export const KOPS_NETWORKING = [
  'kubenet', 'external', 'flannel-vxlan', 'flannel', 'flannel-udp', 'calico', 'kube-router',
  'amazonvpc', 'cilium', 'cilium-etcd', 'kindnet', 'cni',
] as const;

const PRIVATE_RANGES = new BlockList();
PRIVATE_RANGES.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE_RANGES.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE_RANGES.addSubnet('192.168.0.0', 16, 'ipv4');

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}
function intToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Lowercase, keep only a-z and 0-9 (the original's rule, minus its defects). */
export function normaliseName(raw: string): string {
  return raw.toLowerCase().replace(/[^a-z0-9]/g, '');
}

const cidrList = z.array(z.union([z.cidrv4(), z.cidrv6()], { message: 'must be a CIDR such as 203.0.113.0/24 or 2001:db8::/32' })).max(50);

const hostname = z
  .string()
  .transform((d) => d.trim().toLowerCase().replace(/\.$/, ''))
  .pipe(
    z
      .string()
      .max(253)
      .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
        message: 'must be a DNS domain such as example.com, the name of a public Route 53 hosted zone in this account',
      }),
  );

const networkSchema = z
  .strictObject({
    cidr: z
      // abort: the prefix and range checks below mean nothing for a value that is not a CIDR.
      .cidrv4({ message: 'must be an IPv4 CIDR such as 10.10.0.0/16', abort: true })
      .default(DEFAULT_CIDR)
      .superRefine((cidr, ctx) => {
        const [address = '', prefixText = ''] = cidr.split('/');
        const prefix = Number(prefixText);
        if (prefix < 16 || prefix > 22) {
          ctx.addIssue({ code: 'custom', message: `prefix must be /16 to /22 (room for one subnet per zone and growth), got /${prefix}` });
          return;
        }
        const base = ipv4ToInt(address);
        const size = 2 ** (32 - prefix);
        const aligned = base - (base % size);
        if (aligned !== base) {
          ctx.addIssue({ code: 'custom', message: `host bits are set; use ${intToIpv4(aligned)}/${prefix}` });
          return;
        }
        if (!PRIVATE_RANGES.check(address, 'ipv4') || !PRIVATE_RANGES.check(intToIpv4(base + size - 1), 'ipv4')) {
          ctx.addIssue({ code: 'custom', message: 'must be private (RFC 1918: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)' });
        }
      }),
  })
  .prefault({});

const kubernetesSchema = z
  .strictObject({
    version: z
      .string()
      .transform((v) => v.replace(/^v/, ''))
      .pipe(
        z
          .string()
          .regex(/^1\.\d+\.\d+$/, { message: 'must be a Kubernetes version such as 1.35.0' })
          .refine(
            (v) => {
              const minor = Number(v.split('.')[1]);
              return minor >= KUBERNETES_MINOR_RANGE.min && minor <= KUBERNETES_MINOR_RANGE.max;
            },
            { message: `must be 1.${KUBERNETES_MINOR_RANGE.min}.x to 1.${KUBERNETES_MINOR_RANGE.max}.x, the versions kops 1.36 builds` },
          ),
      )
      .default(DEFAULT_KUBERNETES_VERSION),
    networking: z.enum(KOPS_NETWORKING).default('cilium'),
    controlPlaneSize: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { message: 'must be an EC2 instance type such as t3.medium' }).default('t3.medium'),
    nodeSize: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { message: 'must be an EC2 instance type such as t3.medium' }).default('t3.medium'),
    nodes: z
      .strictObject({
        min: z.int().min(1).max(100).default(3),
        max: z.int().min(1).max(100).default(6),
      })
      .prefault({})
      .refine((n) => n.min <= n.max, { message: 'min must not exceed max' }),
  })
  .prefault({});

const accessSchema = z
  .strictObject({
    /** CIDRs allowed to reach the Kubernetes API. */
    api: cidrList.min(1, { message: 'list at least one CIDR, e.g. your office range, or 0.0.0.0/0' }).default(['0.0.0.0/0']),
    /** CIDRs allowed to SSH to the nodes; closed unless listed. */
    ssh: cidrList.default([]),
  })
  .prefault({});

const tagsSchema = z
  .record(
    z.string().min(1).max(128).refine((k) => !k.toLowerCase().startsWith('aws:'), { message: 'tag keys starting with aws: are reserved by AWS' }),
    z.string().max(256),
  )
  .refine((t) => Object.keys(t).length <= 30, { message: 'at most 30 tags (kops and AWS add their own, the limit is 50)' })
  .default({});

export const fabricSpecSchema = z
  .strictObject({
    name: z
      .string()
      .transform(normaliseName)
      .pipe(
        z
          .string()
          .min(1, { message: 'must keep at least one letter or digit after lowercasing and dropping everything else' })
          .max(32, { message: 'must be at most 32 characters after normalising' })
          .regex(/^[a-z]/, { message: 'must start with a letter after normalising' }),
      ),
    domain: hostname,
    region: z.string().regex(REGION_PATTERN, { message: 'must be an AWS region such as us-east-2' }).default(DEFAULT_REGION),
    zones: z.array(z.string().regex(ZONE_PATTERN, { message: 'must be an availability zone name such as us-east-2a' })).optional(),
    zoneCount: z.union([z.literal(3), z.literal(5)], { message: 'must be 3 or 5 (an odd count keeps etcd quorum)' }).optional(),
    network: networkSchema,
    kubernetes: kubernetesSchema,
    access: accessSchema,
    tags: tagsSchema,
  })
  .superRefine((spec, ctx) => {
    if (spec.zones === undefined) return;
    const unique = new Set(spec.zones);
    if (unique.size !== spec.zones.length) ctx.addIssue({ code: 'custom', path: ['zones'], message: 'zones must not repeat' });
    if (spec.zones.length !== 3 && spec.zones.length !== 5) {
      ctx.addIssue({ code: 'custom', path: ['zones'], message: 'list 3 or 5 zones (an odd count keeps etcd quorum)' });
    }
    if (spec.zoneCount !== undefined && spec.zoneCount !== spec.zones.length) {
      ctx.addIssue({ code: 'custom', path: ['zoneCount'], message: `zoneCount ${spec.zoneCount} disagrees with the ${spec.zones.length} pinned zones; drop one of them` });
    }
    for (const zone of spec.zones) {
      if (!zone.startsWith(spec.region)) {
        ctx.addIssue({ code: 'custom', path: ['zones'], message: `zone ${zone} is not in region ${spec.region}` });
      }
    }
  })
  .transform(({ zoneCount, ...spec }) => ({
    ...spec,
    zoneCount: (spec.zones?.length ?? zoneCount ?? 3) as 3 | 5,
  }));

/** A spec as a user writes it. */
export type FabricSpecInput = z.input<typeof fabricSpecSchema>;
/** A validated spec with every default filled in. */
export type FabricSpec = z.output<typeof fabricSpecSchema>;

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Turns zod issues into problems that name the field, the value received and the fix. */
export function toProblems(error: z.ZodError, input: unknown, prefix = ''): Problem[] {
  return error.issues.flatMap((issue) => {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) =>
        problem(`${prefix}${base ? `${base}.` : ''}${key}`, valueAt(input, [...issue.path, key]), 'unknown field: remove it or check its spelling against the spec reference in README.md'),
      );
    }
    if (issue.code === 'invalid_key') {
      // zod reports a bad record key as "Invalid key in record"; the useful reason is in the inner issues.
      const key = issue.path[issue.path.length - 1];
      return [problem(`${prefix}${base}`, key, `${issue.issues.map((i) => i.message).join('; ')}: rename the key`)];
    }
    return [problem(`${prefix}${base || '(spec)'}`, valueAt(input, issue.path), issue.message)];
  });
}

/** Validates and normalises a spec, or throws `FabricSpecInvalid` listing every problem. */
export function parseFabricSpec(input: unknown): FabricSpec {
  const result = fabricSpecSchema.safeParse(input);
  if (!result.success) throw new FabricSpecInvalid(toProblems(result.error, input));
  return result.data;
}

export function clusterNameOf(spec: Pick<FabricSpec, 'name' | 'domain'>): string {
  return `${spec.name}.${spec.domain}`;
}

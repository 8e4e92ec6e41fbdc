/**
 * What each stand-in keeps of the real thing, in one place. A stand-in may be stricter than what it
 * stands for, never more lenient: where kops's own files say how the real thing behaves, the rule
 * is read from them here (not restated), and the stand-ins import it from here.
 *
 * kops's files are vendored under `kops/reference/` (its CLI reference) and `kops/golden/` (its
 * golden `update cluster --target=terraform` output); see `kops/NOTICE.md`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KOPS_PLACEHOLDER_ADDRESS } from '../../domain/kops';
import { PACKAGE_ROOT } from '../../package-root';

// From the package root, not __dirname: the stand-in also runs as one bundle kept elsewhere (kops/bundle.ts).
export const KOPS_STANDIN_ROOT = join(PACKAGE_ROOT, 'lib', 'local', 'standins', 'kops');
export const KOPS_REFERENCE_DIR = join(KOPS_STANDIN_ROOT, 'reference');
export const KOPS_GOLDEN_DIR = join(KOPS_STANDIN_ROOT, 'golden');
/** kops's completed cluster spec of its HA test cluster: the API server settings kops gives every cluster. */
const COMPLETED_SPEC = join(KOPS_GOLDEN_DIR, 'ha', 'data', 'aws_s3_object_cluster-completed.spec_content');

/** How the Kubernetes API server of a kops cluster authenticates, read from kops's completed spec. */
export interface ApiServerAuthContract {
  /** `spec.kubeAPIServer.anonymousAuth`: false means a request without credentials gets 401. */
  readonly anonymousAuth: boolean;
  /** `spec.kubeAPIServer.authorizationMode`, e.g. `Node,RBAC`. */
  readonly authorizationMode: string;
  /** The group `kops export kubeconfig --admin` puts its user in (RBAC's cluster-admin binding). */
  readonly adminGroup: 'system:masters';
  /** The admin credential's lifetime when `--admin` is given without a value, from kops's CLI reference. */
  readonly adminLifetime: string;
  readonly source: string;
}

function readCompletedSpec(): { anonymousAuth: boolean; authorizationMode: string } {
  const spec = (parseYaml(readFileSync(COMPLETED_SPEC, 'utf8')) as { spec?: { kubeAPIServer?: Record<string, unknown> } }).spec
    ?.kubeAPIServer;
  if (typeof spec?.anonymousAuth !== 'boolean' || typeof spec.authorizationMode !== 'string') {
    throw new Error(`${COMPLETED_SPEC} lacks kubeAPIServer.anonymousAuth or authorizationMode: the vendored kops output is incomplete`);
  }
  return { anonymousAuth: spec.anonymousAuth, authorizationMode: spec.authorizationMode };
}

function readAdminLifetime(): string {
  const reference = readFileSync(join(KOPS_REFERENCE_DIR, 'kops_export_kubeconfig.md'), 'utf8');
  const lifetime = /--admin duration\[=([^\]]+)\]/.exec(reference)?.[1];
  if (lifetime === undefined) throw new Error('kops_export_kubeconfig.md documents no default for --admin');
  return lifetime;
}

export const API_SERVER_AUTH: ApiServerAuthContract = {
  ...readCompletedSpec(),
  adminGroup: 'system:masters',
  adminLifetime: readAdminLifetime(),
  source:
    'kops/golden/ha/data/aws_s3_object_cluster-completed.spec_content (kubeAPIServer), kops/reference/kops_export_kubeconfig.md (--admin)',
};

/**
 * Where and how kops keeps the cluster CA in its state store. Not in kops's vendored files (the CLI
 * reference and golden output do not show the keystore), so stated here from kops's source, as
 * facts: the Keyset type (`pkg/apis/kops/v1alpha2/keyset.go`), the VFS keystore's layout and writer
 * (`upup/pkg/fi/vfs_castore.go`), its item ids (`Keyset.AddItem`, `pki.BuildPKISerial`), and when kops
 * makes the CA (`upup/pkg/fi/fitasks/keypair.go`: a task of `update cluster`'s apply, for every
 * target but the dry run, checked for first so that it is never made twice).
 */
export interface ClusterCaKeysetContract {
  /** The keyset's name: kops's Kubernetes cluster CA. */
  readonly name: 'kubernetes-ca';
  /** Its object under the cluster's config base (`<state>/<cluster>/`). */
  readonly path: string;
  readonly apiVersion: 'kops.k8s.io/v1alpha2';
  readonly kind: 'Keyset';
  /** `spec.type` of a keyset of certificates and private keys. */
  readonly type: 'Keypair';
  /** The PEM kops writes as a key's `privateMaterial` (Go's PKCS#1 encoding of an RSA key). */
  readonly privateKeyPem: 'RSA PRIVATE KEY';
  readonly source: string;
}

export const CLUSTER_CA_KEYSET: ClusterCaKeysetContract = {
  name: 'kubernetes-ca',
  path: 'pki/private/kubernetes-ca/keyset.yaml',
  apiVersion: 'kops.k8s.io/v1alpha2',
  kind: 'Keyset',
  type: 'Keypair',
  privateKeyPem: 'RSA PRIVATE KEY',
  source:
    'kops source (read for facts, not vendored): ' +
    'pkg/apis/kops/v1alpha2/keyset.go, upup/pkg/fi/vfs_castore.go, upup/pkg/fi/fitasks/keypair.go',
};

export interface StandInContract {
  readonly name: string;
  /** What runs in a real account instead. */
  readonly standsFor: string;
  /** The real contract it keeps, and where that comes from. */
  readonly keeps: readonly string[];
  /** What it cannot do, said out loud. */
  readonly lacks: readonly string[];
}

export const STAND_IN_CONTRACTS: readonly StandInContract[] = [
  {
    name: 'kops stand-in',
    standsFor: 'kops 1.36.2 (not installable here)',
    keeps: [
      'flags: exactly those of kops/reference/kops_*.md, parsed with their pflag types; anything else is refused as kops refuses it',
      "outputs: kops/golden/ha kubernetes.tf and data/ with the fabric's names, " +
        'reshaped for existing subnets as kops/golden/shared_subnet is',
      `DNS placeholder: api.<cluster> and api.internal.<cluster> pre-created as ${KOPS_PLACEHOLDER_ADDRESS} ` +
        `(kops's PlaceholderIP) until dns-controller runs`,
      `auth: export kubeconfig --admin issues a client certificate (CN kubecfg-<user>, O ${API_SERVER_AUTH.adminGroup}, ` +
        `lifetime ${API_SERVER_AUTH.adminLifetime} by default) signed by the cluster CA; no token`,
      'rolling-update --yes validates the cluster through the API with credentials ' +
        '(the kubeconfig with --use-kubeconfig, else a minted admin certificate) and fails when it cannot',
      'rolling-update selects instance groups by --instance-group-roles (the roles its reference lists) ' +
        'and --instance-group, and names them',
      'set cluster spec.kubernetesVersion=<version> changes the config in the state store; ' +
        'the next update renders that version (kops/golden is 1.32.0; see src/golden.ts for what carries it)',
      'every invocation is appended, in order, to the JSON-lines file KOPS_STANDIN_CALL_LOG names, ' +
        "when set (the stand-in's own, for tests)",
      `cluster CA: update cluster (any target but the dry run of --target=direct without --yes) writes ${CLUSTER_CA_KEYSET.path} ` +
        `when it is missing, as a ${CLUSTER_CA_KEYSET.apiVersion} ${CLUSTER_CA_KEYSET.kind} ` +
        `(type ${CLUSTER_CA_KEYSET.type}; one key, the primaryId, its id made as kops makes it: ` +
        `the certificate's serial number, or a serial from the time when that is higher; publicMaterial the certificate, ` +
        `privateMaterial the ${CLUSTER_CA_KEYSET.privateKeyPem}, each base64 of its PEM); ` +
        'an existing keyset is never replaced. ' +
        'It holds the CA the API stand-in trusts, which local mode hands over in ' +
        'KOPS_STANDIN_API_CA_FILE and KOPS_STANDIN_API_CA_KEY_FILE; without them the stand-in makes a CA, as kops does',
      'delete cluster --yes removes every object under <state>/<cluster>/ (config, instance groups, SSH key, CA keyset), ' +
        "as kops deletes the cluster's whole state",
    ],
    lacks: [
      'creates no cloud resources itself (--target=direct with --yes is refused)',
      'no nodes to drain or replace in the emulator',
      'set cluster sets spec.kubernetesVersion only; the kubelet/kubectl asset hashes stay those of the golden release',
      `writes the ${CLUSTER_CA_KEYSET.name} keyset only ` +
        `(kops writes a keyset per CA and key it makes: etcd, service-account, aggregator...)`,
      'export kubeconfig and rolling-update sign with the CA local mode hands over in files, not with the keyset: ' +
        'the same CA within one local run; a later run against a kept emulator starts an API stand-in with a new CA, ' +
        'while the keyset keeps the first (kops never replaces it)',
    ],
  },
  {
    name: 'Kubernetes API stand-in',
    standsFor: "the cluster's kube-apiserver behind api.<cluster>",
    keeps: [
      `TLS with a certificate for api.<cluster> signed by the cluster CA (verified by clients against that CA only)`,
      `anonymousAuth ${String(API_SERVER_AUTH.anonymousAuth)}: a request without credentials gets 401, ` +
        `as kops's spec sets it (${API_SERVER_AUTH.source})`,
      'client certificates are verified against the cluster CA at request time, as kube-apiserver does: ' +
        'an unknown issuer gets 401; bearer tokens must be ones it issued',
      '/readyz answers 503 while booting, then ok',
    ],
    lacks: ['serves /readyz only (404 elsewhere)', 'no RBAC beyond "authenticated"'],
  },
  {
    name: 'dns-controller stand-in',
    standsFor: "kops's dns-controller on the control plane",
    keeps: [
      `replaces the ${KOPS_PLACEHOLDER_ADDRESS} placeholder of api.<cluster> with the API's address ` +
        `(here 127.0.0.1) by one Route 53 UPSERT`,
    ],
    lacks: ['does not run in the cluster; local mode calls it once the cluster job is done'],
  },
  {
    name: 'public DNS stand-in',
    standsFor: "the internet's resolvers",
    keeps: [
      'answers NS for a domain with the name servers of its public hosted zone (the delegation the registrar sets); ' +
        'NXDOMAIN for unknown names',
    ],
    lacks: ["answers from the emulator's Route 53, not from a real delegation"],
  },
  {
    name: 'CodeBuild stand-in',
    standsFor: 'AWS CodeBuild (moto cannot run builds)',
    keeps: [
      "runs the real buildspecs and scripts with the project's environment and overrides; " +
        "returns CodeBuild's StartBuild.sync shape with exported-variables",
      'Lambda compute (the projects of new fabrics): builds end at 15 minutes, take no timeout of their own, run in a copy of ' +
        'the job source with HOME in /tmp, and fail when they change that source (only /tmp is writable there)',
    ],
    lacks: [
      'runs on this machine, not in a CodeBuild container',
      "Lambda compute: a write outside /tmp and the source is not refused (runs as you, maybe root); the image's tools are yours",
    ],
  },
];

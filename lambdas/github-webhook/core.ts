import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { ExecutionInput, SpecSource } from '../shared/contract';
import { executionArnFor, executionNameFor } from '../shared/execution-name';
import { nestingProblem, parseSpecJson } from '../shared/spec-document';
import { type ExecutionRequest, executionExists, startOnce } from '../shared/start-execution';

/**
 * GitHub push webhook receiver, as plain functions. The handler wires them to a Lambda function URL.
 *
 * Order of checks (cheapest and safest first): size, signature, event type, payload, branch.
 * Nothing reads the payload before its signature is verified.
 */

/** Larger bodies are refused before any HMAC work. A push payload with its 20-commit list is far below this. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Branches that carry a fabric: `refs/heads/fabric/<name>`. */
export const FABRIC_REF_PREFIX = 'refs/heads/fabric/';
/** `source` of the events this receiver puts on the bus. */
export const EVENT_SOURCE = 'fabricctl';
export const BRANCH_DELETED_DETAIL_TYPE = 'Fabric Branch Deleted';

/** The parts of a Lambda function URL event we use (payload format 2.0). */
export interface FunctionUrlEvent {
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export function respond(statusCode: number, body: Record<string, unknown>): HttpResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Function URLs lowercase header names, but other front ends may not: look up case-insensitively. */
export function header(event: FunctionUrlEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/**
 * The raw bytes GitHub signed. Function URLs base64-encode bodies they do not consider text;
 * the HMAC must be computed over the decoded bytes, never over the base64 text.
 */
export function rawBody(event: FunctionUrlEvent): Buffer {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

/** Upper bound of the decoded size, computed without decoding (so a huge body costs nothing). */
export function bodySizeBound(event: FunctionUrlEvent): number {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body, 'utf8');
}

export type SignatureCheck = 'valid' | 'missing' | 'malformed' | 'mismatch';

/**
 * Checks `X-Hub-Signature-256: sha256=<hex>` against HMAC-SHA256(secret, body) in constant time.
 * The lengths are compared first because timingSafeEqual throws on unequal lengths; the length of a
 * SHA-256 digest is public, so that comparison leaks nothing.
 */
export function verifySignature(body: Buffer, signatureHeader: string | undefined, secret: string): SignatureCheck {
  if (signatureHeader === undefined || signatureHeader === '') return 'missing';
  const match = /^sha256=([0-9a-fA-F]+)$/.exec(signatureHeader.trim());
  if (!match?.[1]) return 'malformed';
  const received = Buffer.from(match[1], 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  if (received.length !== expected.length) return 'mismatch';
  return timingSafeEqual(received, expected) ? 'valid' : 'mismatch';
}

/** What a verified delivery asks for. */
export type Classification =
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'deleted'; readonly repository: string; readonly branch: string; readonly name: string; readonly before: string }
  | { readonly kind: 'push'; readonly repository: string; readonly branch: string; readonly name: string; readonly commit: string };

function stringAt(value: unknown, ...path: string[]): string | undefined {
  let current: unknown = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === 'string' ? current : undefined;
}

const ZERO_SHA = /^0+$/;
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** Decides what to do with a verified delivery from its `X-GitHub-Event` and parsed payload. */
export function classify(eventType: string | undefined, payload: unknown): Classification {
  if (eventType === 'ping') return { kind: 'ignore', reason: 'ping: the webhook is set up; pushes to fabric/<name> branches start runs' };
  if (eventType !== 'push') return { kind: 'ignore', reason: `event ${eventType ?? '(none)'} is not a push; only push events start runs` };
  const ref = stringAt(payload, 'ref');
  const repository = stringAt(payload, 'repository', 'full_name');
  if (ref === undefined || repository === undefined || !/^[^/]+\/[^/]+$/.test(repository)) {
    return { kind: 'invalid', reason: 'push payload lacks ref or repository.full_name' };
  }
  if (!ref.startsWith(FABRIC_REF_PREFIX) || ref.length === FABRIC_REF_PREFIX.length) {
    return { kind: 'ignore', reason: `ref ${ref} is not a fabric branch (refs/heads/fabric/<name>)` };
  }
  const branch = ref.slice('refs/heads/'.length);
  const name = ref.slice(FABRIC_REF_PREFIX.length);
  const deleted = (payload as { deleted?: unknown }).deleted === true;
  const after = stringAt(payload, 'after') ?? '';
  if (deleted || ZERO_SHA.test(after)) {
    return { kind: 'deleted', repository, branch, name, before: stringAt(payload, 'before') ?? '' };
  }
  if (!SHA.test(after)) return { kind: 'invalid', reason: `push payload has no commit id in "after" (got ${JSON.stringify(after)})` };
  return { kind: 'push', repository, branch, name, commit: after };
}

/** The StartExecution request for a verified push whose `fabric.json` was read at the pushed commit. */
export function buildExecutionRequest(stateMachineArn: string, push: Extract<Classification, { kind: 'push' }>, spec: unknown): ExecutionRequest {
  const source: SpecSource = { provider: 'github', repository: push.repository, branch: push.branch, commit: push.commit };
  // The spec is passed as read: the state machine's first state validates it and checks its name against the branch.
  return { stateMachineArn, name: executionNameFor(push.name, push.commit), input: { action: 'provision', spec: spec as ExecutionInput['spec'], source } };
}

/** GitHub says a file is missing or unreadable at that commit: the push cannot start a run. */
export class SpecNotReadable extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'SpecNotReadable';
  }
}

export interface FetchSpecOptions {
  readonly apiUrl: string;
  readonly repository: string;
  readonly commit: string;
  readonly token?: string;
  readonly fetchImpl?: typeof fetch;
}

/**
 * How a deployment gives this receiver a token, as lib/github-webhook.ts and lib/app.ts name it:
 * said to whoever pushed to a repository GitHub will not show without one.
 */
export const TOKEN_OPTION = 'the githubTokenSecret option of the GitHub webhook (`npx cdk deploy -c fabricctl:githubTokenSecretArn=<secret ARN>`)';

/**
 * Reads `fabric.json` at the pushed commit from GitHub's contents API (raw media type).
 * A 404 or unparsable file is the user's problem (SpecNotReadable, answered 422); other failures
 * (GitHub down, rate limits) throw so that GitHub marks the delivery failed and it can be redelivered.
 * Without a token GitHub answers 404 (or 401/403) for a private repository as for a missing file:
 * that answer says both, and names the token option.
 */
export async function fetchSpec(options: FetchSpecOptions): Promise<unknown> {
  const [owner = '', repo = ''] = options.repository.split('/');
  const url = `${options.apiUrl.replace(/\/+$/, '')}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/contents/fabric.json?ref=${encodeURIComponent(options.commit)}`;
  const headers: Record<string, string> = {
    accept: 'application/vnd.github.raw+json',
    'user-agent': 'fabricctl-webhook',
    'x-github-api-version': '2022-11-28',
  };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await (options.fetchImpl ?? fetch)(url, { headers });
  const text = await response.text();
  // An exhausted rate limit (403 or 429 with no requests left) passes: redelivering later works.
  const rateLimited = response.headers.get('x-ratelimit-remaining') === '0';
  if (!options.token && [401, 403, 404].includes(response.status) && !rateLimited) {
    throw new SpecNotReadable(
      `GitHub answered ${response.status} for fabric.json in ${options.repository} at ${options.commit}, read without a token. ` +
        `If the repository is private, the webhook needs a token that can read its contents: store one in Secrets Manager and pass it with ${TOKEN_OPTION}. ` +
        'If it is public, commit a fabric.json at the root of the branch (fabricctl init writes one).',
      422,
    );
  }
  if (response.status === 404) {
    throw new SpecNotReadable(`fabric.json not found in ${options.repository} at ${options.commit}: commit a fabric.json at the root of the branch (fabricctl init writes one), and check that the webhook's token can read the repository`, 422);
  }
  if (!response.ok) throw new Error(`GitHub contents API answered ${response.status} for ${options.repository}@${options.commit}: ${text.slice(0, 200)}`);
  let spec: unknown;
  try {
    spec = parseSpecJson(text);
  } catch {
    throw new SpecNotReadable(`fabric.json in ${options.repository} at ${options.commit} is not valid JSON: run fabricctl validate fabric.json`, 422);
  }
  // The execution input is serialised recursively: a hostile nesting is refused here, not by a RangeError.
  const deep = nestingProblem(spec);
  if (deep) throw new SpecNotReadable(`fabric.json in ${options.repository} at ${options.commit}: ${deep.field} is ${deep.received}; ${deep.fix}`, 422);
  return spec;
}

/** Deleting a fabric branch destroys nothing: it announces the deletion so a person (or a rule) decides. */
export async function announceBranchDeleted(
  events: EventBridgeClient,
  eventBusName: string,
  deleted: Extract<Classification, { kind: 'deleted' }>,
  delivery: string | undefined,
): Promise<void> {
  const detail = {
    name: deleted.name,
    source: { provider: 'github', repository: deleted.repository, branch: deleted.branch, commit: deleted.before },
    delivery,
    note: `nothing was destroyed; to destroy the fabric run: fabricctl down ${deleted.name} --confirm ${deleted.name}`,
  };
  const result = await events.send(
    new PutEventsCommand({ Entries: [{ Source: EVENT_SOURCE, DetailType: BRANCH_DELETED_DETAIL_TYPE, Detail: JSON.stringify(detail), EventBusName: eventBusName }] }),
  );
  if ((result.FailedEntryCount ?? 0) > 0) {
    const entry = result.Entries?.[0];
    throw new Error(`PutEvents refused the ${BRANCH_DELETED_DETAIL_TYPE} event: ${entry?.ErrorCode ?? ''} ${entry?.ErrorMessage ?? ''}`);
  }
}

export interface ReceiverDeps {
  readonly webhookSecret: () => Promise<string>;
  readonly githubToken: () => Promise<string | undefined>;
  readonly sfn: SFNClient;
  readonly events: EventBridgeClient;
  readonly stateMachineArn: string;
  readonly eventBusName: string;
  readonly githubApiUrl: string;
  readonly maxBodyBytes?: number;
  readonly fetchImpl?: typeof fetch;
}

/** The whole receiver: one delivery in, one HTTP answer out. Server-side faults throw. */
export async function receive(event: FunctionUrlEvent, deps: ReceiverDeps): Promise<HttpResponse> {
  const limit = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  // The bound is never below the decoded size, so no body over the limit gets past this check.
  if (bodySizeBound(event) > limit) return respond(413, { error: 'PayloadTooLarge', reason: `body is larger than ${limit} bytes` });
  const body = rawBody(event);

  const signature = header(event, 'x-hub-signature-256');
  if (signature === undefined || signature === '') return respond(401, { error: 'SignatureMissing', reason: 'X-Hub-Signature-256 is required: set a secret on the webhook' });
  const check = verifySignature(body, signature, await deps.webhookSecret());
  if (check !== 'valid') return respond(401, { error: 'SignatureInvalid', reason: 'X-Hub-Signature-256 does not match the body signed with the webhook secret' });

  const delivery = header(event, 'x-github-delivery');
  const eventType = header(event, 'x-github-event');
  // Only a push's payload is read: any other event is ignored whatever its body.
  let payload: unknown;
  if (eventType === 'push') {
    try {
      payload = JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      return respond(400, { error: 'PayloadInvalid', reason: 'body is not JSON: set the webhook content type to application/json' });
    }
  }
  const decision = classify(eventType, payload);
  switch (decision.kind) {
    case 'ignore':
      return respond(202, { ignored: true, reason: decision.reason });
    case 'invalid':
      return respond(400, { error: 'PayloadInvalid', reason: decision.reason });
    case 'deleted':
      await announceBranchDeleted(deps.events, deps.eventBusName, decision, delivery);
      return respond(202, { ignored: true, reason: `branch ${decision.branch} deleted: nothing destroyed, ${BRANCH_DELETED_DETAIL_TYPE} event put` });
    case 'push': {
      const name = executionNameFor(decision.name, decision.commit);
      // Cheap replay check before calling GitHub: a redelivered push needs no second read of the spec.
      const existing = executionArnFor(deps.stateMachineArn, name);
      if (await executionExists(deps.sfn, existing)) return respond(200, { duplicate: true, executionArn: existing, delivery });
      let spec: unknown;
      try {
        spec = await fetchSpec({ apiUrl: deps.githubApiUrl, repository: decision.repository, commit: decision.commit, token: await deps.githubToken(), fetchImpl: deps.fetchImpl });
      } catch (error) {
        if (error instanceof SpecNotReadable) return respond(error.status, { error: error.name, reason: error.message });
        throw error;
      }
      const result = await startOnce(deps.sfn, buildExecutionRequest(deps.stateMachineArn, decision, spec));
      return result.started
        ? respond(202, { started: true, executionArn: result.executionArn, delivery })
        : respond(200, { duplicate: true, executionArn: result.executionArn, delivery });
    }
  }
}

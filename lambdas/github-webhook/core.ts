import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { ExecutionInput, SpecSource } from '../../lib/domain/contract';
import { executionArnFor, executionNameFor } from '../../lib/domain/execution-name';
import { fabricBranchProblem } from '../../lib/domain/names';
import { nestingProblem, parseSpecJson } from '../../lib/domain/spec-document';
import { type ExecutionRequest, executionExists, startOnce } from '../shared/start-execution';
import { EVENT_SOURCE } from '../../lib/domain/events';

/**
 * GitHub push webhook receiver, as plain functions. The handler wires them to a Lambda function URL.
 *
 * Order of checks (cheapest and safest first): size, signature, event type, delivery id, payload,
 * branch, then the delivery log (replays), then the execution of the commit (duplicates).
 * Nothing reads the payload before its signature is verified, and nothing is recorded before then
 * either, so unsigned requests cannot fill the delivery log.
 */

/**
 * Larger bodies are refused before any HMAC work. GitHub's push payloads list every commit with its
 * changed paths (up to 25 MB); a function URL takes requests of up to 6 MB, so nothing larger arrives.
 */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;
/**
 * Larger `fabric.json` files are refused (422): a spec is a few hundred bytes, and the execution
 * input that carries it may hold at most 256 KiB (Step Functions' quota).
 */
export const MAX_SPEC_BYTES = 64 * 1024;
/** GitHub gives up on a delivery after 10 s: the contents API must answer well before. */
export const GITHUB_API_TIMEOUT_MS = 7000;
/** Branches that carry a fabric: `refs/heads/fabric/<name>`. */
export const FABRIC_REF_PREFIX = 'refs/heads/fabric/';
/** `source` of the events this receiver puts on the bus. */
export { EVENT_SOURCE };
export const BRANCH_DELETED_DETAIL_TYPE = 'Fabric Branch Deleted';
/** `X-GitHub-Delivery`: the GUID GitHub gives each delivery (and keeps when it is redelivered). */
export const DELIVERY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** How long a delivery id is kept (the table's TTL), refusing replays of that delivery meanwhile. */
export const DELIVERY_RETENTION_SECONDS = 30 * 24 * 3600;
/**
 * How long a delivery being handled stays claimed. Longer than the function's timeout (30 s), so a
 * claim is only taken over from an invocation that cannot still be running (one that crashed).
 */
export const DELIVERY_LEASE_SECONDS = 120;

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
  | { readonly kind: 'misnamed'; readonly reason: string }
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

/** Why an event other than a push is ignored. */
export function ignoredEventReason(eventType: string | undefined): string {
  return eventType === 'ping'
    ? 'ping: the webhook is set up; pushes to fabric/<name> branches start runs'
    : `event ${eventType ?? '(none)'} is not a push; only push events start runs`;
}

/** Decides what to do with a verified delivery from its `X-GitHub-Event` and parsed payload. */
export function classify(eventType: string | undefined, payload: unknown): Classification {
  if (eventType !== 'push') return { kind: 'ignore', reason: ignoredEventReason(eventType) };
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
  const misnamed = fabricBranchProblem(name);
  const deleted = (payload as { deleted?: unknown }).deleted === true;
  const after = stringAt(payload, 'after') ?? '';
  if (deleted || ZERO_SHA.test(after)) {
    // No fabric lives on a misnamed branch: its deletion concerns none.
    if (misnamed) return { kind: 'ignore', reason: `branch ${branch} deleted: ${misnamed}` };
    return { kind: 'deleted', repository, branch, name, before: stringAt(payload, 'before') ?? '' };
  }
  if (misnamed) return { kind: 'misnamed', reason: `branch ${branch}: ${misnamed}` };
  if (!SHA.test(after)) return { kind: 'invalid', reason: `push payload has no commit id in "after" (got ${JSON.stringify(after)})` };
  return { kind: 'push', repository, branch, name, commit: after };
}

/** The StartExecution request for a verified push whose `fabric.json` was read at the pushed commit. */
export function buildExecutionRequest(
  stateMachineArn: string,
  push: Extract<Classification, { kind: 'push' }>,
  spec: unknown,
): ExecutionRequest {
  const source: SpecSource = { provider: 'github', repository: push.repository, branch: push.branch, commit: push.commit };
  // The spec is passed as read: the state machine's first state validates it and checks its name against the branch.
  return {
    stateMachineArn,
    name: executionNameFor(push.name, push.commit),
    input: { action: 'provision', spec: spec as ExecutionInput['spec'], source },
  };
}

/** GitHub says a file is missing or unreadable at that commit: the push cannot start a run. */
export class SpecNotReadable extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
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
export const TOKEN_OPTION =
  'the githubTokenSecret option of the GitHub webhook (`npx cdk deploy -c fabricctl:githubTokenSecretArn=<secret ARN>`)';

/**
 * Reads `fabric.json` at the pushed commit from GitHub's contents API (raw media type).
 * A 404 or unparsable file is the user's problem (SpecNotReadable, answered 422); other failures
 * (GitHub down, rate limits) throw so that GitHub marks the delivery failed and it can be redelivered.
 * Without a token GitHub answers 404 (or 401/403) for a private repository as for a missing file:
 * that answer says both, and names the token option.
 */
export async function fetchSpec(options: FetchSpecOptions): Promise<unknown> {
  const [owner = '', repo = ''] = options.repository.split('/');
  const url =
    `${options.apiUrl.replace(/\/+$/, '')}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}` +
    `/contents/fabric.json?ref=${encodeURIComponent(options.commit)}`;
  const headers: Record<string, string> = {
    accept: 'application/vnd.github.raw+json',
    'user-agent': 'fabricctl-webhook',
    'x-github-api-version': '2022-11-28',
  };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  // A timeout throws (a server fault): the claim is released and a redelivery reads again.
  const response = await (options.fetchImpl ?? fetch)(url, { headers, signal: AbortSignal.timeout(GITHUB_API_TIMEOUT_MS) });
  const text = await response.text();
  // A rate limit passes, primary (no requests left) or secondary (retry-after, or 429): redelivering later works.
  const rateLimited =
    response.status === 429 || response.headers.get('x-ratelimit-remaining') === '0' || response.headers.get('retry-after') !== null;
  if (!options.token && [401, 403, 404].includes(response.status) && !rateLimited) {
    throw new SpecNotReadable(
      `GitHub answered ${response.status} for fabric.json in ${options.repository} at ${options.commit}, read without a token. ` +
        `If the repository is private, the webhook needs a token that can read its contents: store one in Secrets Manager ` +
        `and pass it with ${TOKEN_OPTION}. ` +
        'If it is public, commit a fabric.json at the root of the branch (fabricctl init writes one).',
      422,
    );
  }
  if (response.status === 404) {
    throw new SpecNotReadable(
      `fabric.json not found in ${options.repository} at ${options.commit}: ` +
        `commit a fabric.json at the root of the branch (fabricctl init writes one), ` +
        `and check that the webhook's token can read the repository`,
      422,
    );
  }
  if (!response.ok)
    throw new Error(`GitHub contents API answered ${response.status} for ${options.repository}@${options.commit}: ${text.slice(0, 200)}`);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_SPEC_BYTES) {
    throw new SpecNotReadable(
      `fabric.json in ${options.repository} at ${options.commit} is ${bytes} bytes, over ${MAX_SPEC_BYTES}: ` +
        'a spec is a few hundred bytes (fabricctl init writes one), and a run takes at most 256 KiB of input',
      422,
    );
  }
  let spec: unknown;
  try {
    spec = parseSpecJson(text);
  } catch {
    throw new SpecNotReadable(
      `fabric.json in ${options.repository} at ${options.commit} is not valid JSON: run fabricctl validate fabric.json`,
      422,
    );
  }
  // The execution input is serialised recursively: a hostile nesting is refused here, not by a RangeError.
  const deep = nestingProblem(spec);
  if (deep)
    throw new SpecNotReadable(
      `fabric.json in ${options.repository} at ${options.commit}: ${deep.field} is ${deep.received}; ${deep.fix}`,
      422,
    );
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
    new PutEventsCommand({
      Entries: [
        { Source: EVENT_SOURCE, DetailType: BRANCH_DELETED_DETAIL_TYPE, Detail: JSON.stringify(detail), EventBusName: eventBusName },
      ],
    }),
  );
  if ((result.FailedEntryCount ?? 0) > 0) {
    const entry = result.Entries?.[0];
    throw new Error(`PutEvents refused the ${BRANCH_DELETED_DETAIL_TYPE} event: ${entry?.ErrorCode ?? ''} ${entry?.ErrorMessage ?? ''}`);
  }
}

/** The table of delivery ids already handled (key `delivery`, TTL attribute `expiresAt`). */
export interface DeliveryLog {
  readonly dynamodb: Pick<DynamoDBClient, 'send'>;
  readonly table: string;
}

const epoch = (time: Date): number => Math.floor(time.getTime() / 1000);

/**
 * Claims a delivery id: true when this invocation may handle the delivery, false when it was handled
 * before (or is being handled now). One conditional write: a new id, or a claim whose lease ran out
 * (its invocation crashed), or one released because handling failed.
 */
export async function claimDelivery(log: DeliveryLog, id: string, now: Date): Promise<boolean> {
  try {
    await log.dynamodb.send(
      new PutItemCommand({
        TableName: log.table,
        Item: {
          delivery: { S: id },
          status: { S: 'claimed' },
          leaseUntil: { N: String(epoch(now) + DELIVERY_LEASE_SECONDS) },
          expiresAt: { N: String(epoch(now) + DELIVERY_RETENTION_SECONDS) },
        },
        ConditionExpression: 'attribute_not_exists(#delivery) OR #leaseUntil < :now',
        ExpressionAttributeNames: { '#delivery': 'delivery', '#leaseUntil': 'leaseUntil' },
        ExpressionAttributeValues: { ':now': { N: String(epoch(now)) } },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/**
 * Settles a claimed delivery. `handled`: kept until its TTL, without a lease, so no replay can claim
 * it. `released`: claimable at once, because GitHub redelivers under the same id and a redelivery
 * after a failure (GitHub down, a missing token, a throttled start) must be handled, not refused.
 */
export async function settleDelivery(log: DeliveryLog, id: string, outcome: 'handled' | 'released', now: Date): Promise<void> {
  const item = { delivery: { S: id }, status: { S: outcome }, expiresAt: { N: String(epoch(now) + DELIVERY_RETENTION_SECONDS) } };
  await log.dynamodb.send(
    new PutItemCommand({ TableName: log.table, Item: outcome === 'released' ? { ...item, leaseUntil: { N: '0' } } : item }),
  );
}

/** Runs `work` once per delivery id; a delivery seen before is answered 200 and nothing else happens. */
export async function oncePerDelivery(
  log: DeliveryLog,
  id: string,
  now: () => Date,
  work: () => Promise<HttpResponse>,
): Promise<HttpResponse> {
  if (!(await claimDelivery(log, id, now()))) return respond(200, { status: 'duplicate delivery' });
  let response: HttpResponse;
  try {
    response = await work();
  } catch (error) {
    // The original fault is what GitHub and the logs must show; a claim not released expires with its lease.
    await settleDelivery(log, id, 'released', now()).catch(() => undefined);
    throw error;
  }
  // A 4xx (fabric.json unreadable) is fixed by the pusher, who then redelivers under the same id.
  await settleDelivery(log, id, response.statusCode < 300 ? 'handled' : 'released', now());
  return response;
}

export interface ReceiverDeps {
  readonly webhookSecret: () => Promise<string>;
  readonly githubToken: () => Promise<string | undefined>;
  readonly sfn: SFNClient;
  readonly events: EventBridgeClient;
  readonly deliveries: DeliveryLog;
  readonly stateMachineArn: string;
  readonly eventBusName: string;
  readonly githubApiUrl: string;
  readonly maxBodyBytes?: number;
  readonly fetchImpl?: typeof fetch;
  /** @default the clock */
  readonly now?: () => Date;
}

/** What a verified push to a fabric branch does: start its commit's run, or announce a deletion. */
async function act(
  decision: Extract<Classification, { kind: 'push' | 'deleted' }>,
  delivery: string,
  deps: ReceiverDeps,
): Promise<HttpResponse> {
  if (decision.kind === 'deleted') {
    await announceBranchDeleted(deps.events, deps.eventBusName, decision, delivery);
    return respond(202, {
      ignored: true,
      reason: `branch ${decision.branch} deleted: nothing destroyed, ${BRANCH_DELETED_DETAIL_TYPE} event put`,
    });
  }
  const name = executionNameFor(decision.name, decision.commit);
  // Cheap replay check before calling GitHub: a redelivered push needs no second read of the spec.
  const existing = executionArnFor(deps.stateMachineArn, name);
  if (await executionExists(deps.sfn, existing)) return respond(200, { duplicate: true, executionArn: existing, delivery });
  let spec: unknown;
  try {
    spec = await fetchSpec({
      apiUrl: deps.githubApiUrl,
      repository: decision.repository,
      commit: decision.commit,
      token: await deps.githubToken(),
      fetchImpl: deps.fetchImpl,
    });
  } catch (error) {
    if (error instanceof SpecNotReadable) return respond(error.status, { error: error.name, reason: error.message });
    throw error;
  }
  const result = await startOnce(deps.sfn, buildExecutionRequest(deps.stateMachineArn, decision, spec));
  return result.started
    ? respond(202, { started: true, executionArn: result.executionArn, delivery })
    : respond(200, { duplicate: true, executionArn: result.executionArn, delivery });
}

/** The whole receiver: one delivery in, one HTTP answer out. Server-side faults throw. */
export async function receive(event: FunctionUrlEvent, deps: ReceiverDeps): Promise<HttpResponse> {
  const limit = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  // The bound is never below the decoded size, so no body over the limit gets past this check.
  if (bodySizeBound(event) > limit) return respond(413, { error: 'PayloadTooLarge', reason: `body is larger than ${limit} bytes` });
  const body = rawBody(event);

  const signature = header(event, 'x-hub-signature-256');
  if (signature === undefined || signature === '')
    return respond(401, { error: 'SignatureMissing', reason: 'X-Hub-Signature-256 is required: set a secret on the webhook' });
  const check = verifySignature(body, signature, await deps.webhookSecret());
  if (check !== 'valid')
    return respond(401, {
      error: 'SignatureInvalid',
      reason: 'X-Hub-Signature-256 does not match the body signed with the webhook secret',
    });

  const eventType = header(event, 'x-github-event');
  // Only a push's payload is read: any other event is ignored whatever its body.
  if (eventType !== 'push') return respond(202, { ignored: true, reason: ignoredEventReason(eventType) });
  // The delivery id is what a replay repeats: a push without a usable one is refused, not guessed at.
  const delivery = header(event, 'x-github-delivery')?.trim();
  if (delivery === undefined || delivery === '') {
    return respond(400, {
      error: 'DeliveryIdMissing',
      reason: 'X-GitHub-Delivery is required on a push: GitHub sends a GUID with every delivery, and replays are refused by it',
    });
  }
  if (!DELIVERY_ID.test(delivery)) {
    return respond(400, {
      error: 'DeliveryIdInvalid',
      reason:
        `X-GitHub-Delivery must be the GUID GitHub sends (8-4-4-4-12 hexadecimal digits); ` +
        `got ${JSON.stringify(delivery.slice(0, 64))}`,
    });
  }
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return respond(400, { error: 'PayloadInvalid', reason: 'body is not JSON: set the webhook content type to application/json' });
  }
  const decision = classify(eventType, payload);
  switch (decision.kind) {
    case 'ignore':
      return respond(202, { ignored: true, reason: decision.reason });
    case 'invalid':
      return respond(400, { error: 'PayloadInvalid', reason: decision.reason });
    case 'misnamed':
      return respond(422, { error: 'BranchNotAFabric', reason: decision.reason });
    case 'deleted':
    case 'push':
      return oncePerDelivery(deps.deliveries, delivery, deps.now ?? (() => new Date()), () => act(decision, delivery, deps));
  }
}

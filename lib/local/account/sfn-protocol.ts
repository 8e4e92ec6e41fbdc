/**
 * The wire of the local Step Functions endpoint: AWS JSON 1.0, as the AWS SDKs and the AWS CLI speak
 * it to `states.<region>.amazonaws.com`. A request is `POST /` with `X-Amz-Target:
 * AWSStepFunctions.<Action>` and a JSON body; an answer is JSON, an error is HTTP 400 with
 * `{"__type": "<ErrorName>", "message": "..."}` (the SDKs read the error's name from `__type`).
 * Plain functions, no server: the server (sfn-server.ts) and the tests use them alike.
 */

export const TARGET_PREFIX = 'AWSStepFunctions.';
export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';

/** An error the service answers with: its name is the `__type` the SDK turns into an exception. */
export class SfnServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export interface SfnRequest {
  readonly action: string;
  readonly body: Record<string, unknown>;
}

export interface RawRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

function header(request: RawRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The action and its parameters; what the service cannot read is an error of the service's own kind. */
export function parseSfnRequest(request: RawRequest): SfnRequest {
  if (request.method !== 'POST')
    throw new SfnServiceError('UnknownOperationException', `Step Functions answers POST /, not ${request.method}`, 404);
  const target = header(request, 'x-amz-target') ?? '';
  if (!target.startsWith(TARGET_PREFIX) || target.length === TARGET_PREFIX.length) {
    throw new SfnServiceError(
      'UnknownOperationException',
      `X-Amz-Target must be ${TARGET_PREFIX}<Action>; received ${JSON.stringify(target)}`,
    );
  }
  let body: unknown;
  try {
    body = request.body.trim() === '' ? {} : JSON.parse(request.body);
  } catch (error) {
    throw new SfnServiceError('SerializationException', `the request body is not JSON: ${(error as Error).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new SfnServiceError('SerializationException', 'the request body must be a JSON object');
  return { action: target.slice(TARGET_PREFIX.length), body: body as Record<string, unknown> };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The action's result as JSON (dates already epoch seconds: see `epochSeconds`; undefined fields left out). */
export function successResponse(result: unknown, requestId: string): RawResponse {
  return { status: 200, headers: { 'content-type': JSON_CONTENT_TYPE, 'x-amzn-requestid': requestId }, body: JSON.stringify(result ?? {}) };
}

export function errorResponse(error: unknown, requestId: string): RawResponse {
  const known =
    error instanceof SfnServiceError
      ? error
      : new SfnServiceError(
          'InternalFailure',
          `the local Step Functions endpoint failed: ${(error as Error)?.message ?? String(error)}`,
          500,
        );
  return {
    status: known.status,
    headers: { 'content-type': JSON_CONTENT_TYPE, 'x-amzn-requestid': requestId, 'x-amzn-errortype': known.type },
    body: JSON.stringify({ __type: known.type, message: known.message }),
  };
}

/** Epoch seconds with milliseconds, as Step Functions sends dates. */
export function epochSeconds(date: Date | number): number {
  return (typeof date === 'number' ? date : date.getTime()) / 1000;
}

// ---------- parameters ----------

export function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '')
    throw new SfnServiceError(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new SfnServiceError('ValidationException', `1 validation error detected: Value at '${field}' must be a string`);
  return value;
}

/** `maxResults`: 0 or absent is the service's page size (100), at most 1000. */
export function pageSize(body: Record<string, unknown>, fallback = 100): number {
  const value = body.maxResults;
  if (value === undefined || value === null || value === 0) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1000) {
    throw new SfnServiceError(
      'ValidationException',
      `1 validation error detected: Value '${String(value)}' at 'maxResults' failed to satisfy constraint: ` +
        `Member must have value less than or equal to 1000`,
    );
  }
  return value;
}

/** One page of `items` from the opaque `nextToken` (an offset, base64url), and the token of the next. */
export function paginate<T>(
  items: readonly T[],
  body: Record<string, unknown>,
  fallback?: number,
): { readonly page: T[]; readonly nextToken?: string } {
  const size = pageSize(body, fallback);
  const token = optionalString(body, 'nextToken');
  let offset = 0;
  if (token !== undefined) {
    const decoded = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!decoded) throw new SfnServiceError('InvalidToken', `Invalid token: ${token.slice(0, 40)}`);
    offset = Number(decoded[1]);
  }
  const page = items.slice(offset, offset + size);
  const next = offset + size < items.length ? Buffer.from(`offset:${offset + size}`).toString('base64url') : undefined;
  return next === undefined ? { page } : { page, nextToken: next };
}

// ---------- ARNs and names ----------

const PARTITION_REGION_ACCOUNT = 'arn:aws[a-z-]*:states:([a-z0-9-]+):(\\d{12})';
const STATE_MACHINE_ARN = new RegExp(`^${PARTITION_REGION_ACCOUNT}:stateMachine:([A-Za-z0-9_-]{1,80})$`);
const EXECUTION_ARN = new RegExp(`^${PARTITION_REGION_ACCOUNT}:execution:([A-Za-z0-9_-]{1,80}):([^:]{1,80})$`);

export interface StateMachineArn {
  readonly region: string;
  readonly account: string;
  readonly name: string;
}

export interface ExecutionArn extends StateMachineArn {
  readonly execution: string;
}

export function parseStateMachineArn(arn: string): StateMachineArn {
  const match = STATE_MACHINE_ARN.exec(arn);
  if (!match)
    throw new SfnServiceError(
      'InvalidArn',
      `Invalid Arn: 'Resource type not valid in this context: ${arn}' (expected arn:aws:states:<region>:<account>:stateMachine:<name>)`,
    );
  return { region: match[1] ?? '', account: match[2] ?? '', name: match[3] ?? '' };
}

export function parseExecutionArn(arn: string): ExecutionArn {
  const match = EXECUTION_ARN.exec(arn);
  if (!match)
    throw new SfnServiceError(
      'InvalidArn',
      `Invalid Arn: 'Resource type not valid in this context: ${arn}' ` +
        `(expected arn:aws:states:<region>:<account>:execution:<state machine>:<name>)`,
    );
  return { region: match[1] ?? '', account: match[2] ?? '', name: match[3] ?? '', execution: match[4] ?? '' };
}

/**
 * Step Functions' execution names: 1-80 characters, no whitespace, none of `< > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /`
 * and no control characters.
 */
export function checkExecutionName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || name.length > 80 || /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/.test(name)) {
    throw new SfnServiceError(
      'InvalidName',
      `Invalid Name: '${name}' (1 to 80 characters, no spaces, no < > { } [ ] ? * " # % \\ ^ | ~ \` $ & , ; : /)`,
    );
  }
}

/** The execution input: JSON text, at most 256 KiB, as the service takes it. */
export function parseExecutionInput(text: string | undefined): unknown {
  if (text === undefined) return {};
  if (Buffer.byteLength(text) > 256 * 1024)
    throw new SfnServiceError('InvalidExecutionInput', 'Invalid Execution Input: larger than 262144 bytes');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new SfnServiceError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(error as Error).message}'`);
  }
}

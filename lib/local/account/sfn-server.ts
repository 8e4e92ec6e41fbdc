import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorResponse, parseSfnRequest, RawResponse, SfnServiceError, successResponse } from './sfn-protocol';

/**
 * The local account's Step Functions endpoint: an HTTP server on 127.0.0.1 speaking AWS JSON 1.0
 * (sfn-protocol.ts) in front of `handle` (LocalStepFunctions.handle). Plain HTTP, as the emulator's
 * other endpoints; signatures are not checked (any credentials do).
 */
export interface SfnEndpoint {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

export type SfnHandler = (action: string, body: Record<string, unknown>) => Promise<unknown>;

/** Step Functions' limit on a request (StartExecution's input is at most 256 KiB). */
const MAX_BODY_BYTES = 1024 * 1024;

export async function answer(
  handle: SfnHandler,
  method: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
): Promise<RawResponse> {
  const requestId = randomUUID();
  try {
    const request = parseSfnRequest({ method, headers, body });
    return successResponse(await handle(request.action, request.body), requestId);
  } catch (error) {
    return errorResponse(error, requestId);
  }
}

export async function startSfnEndpoint(
  handle: SfnHandler,
  options: { readonly port?: number; readonly host?: string } = {},
): Promise<SfnEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      const reply =
        size > MAX_BODY_BYTES
          ? Promise.resolve(
              errorResponse(
                new SfnServiceError('ValidationException', `the request is ${size} bytes; at most ${MAX_BODY_BYTES} are read`),
                randomUUID(),
              ),
            )
          : answer(handle, request.method ?? 'GET', request.headers, Buffer.concat(chunks).toString('utf8'));
      void reply.then((r) => {
        response.writeHead(r.status, { ...r.headers, 'content-length': Buffer.byteLength(r.body) });
        response.end(r.body);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections of SDK clients would hold close() open.
        server.closeAllConnections();
      }),
  };
}

/**
 * AWS SDK client options shared by every function. The SDK reads region, credentials and
 * `AWS_ENDPOINT_URL` from the environment itself; S3 needs path-style addressing when an
 * endpoint override (the local emulator) is set, because bucket sub-domains of 127.0.0.1 do not resolve.
 */
export interface ClientOptions {
  readonly region?: string;
  readonly maxAttempts: number;
}

export function clientOptions(region?: string): ClientOptions {
  return region === undefined ? { maxAttempts: 5 } : { region, maxAttempts: 5 };
}

export function s3Options(region?: string): ClientOptions & { readonly forcePathStyle: boolean } {
  return { ...clientOptions(region), forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) };
}

/**
 * One client per region, made on first use and kept for the container's life: fabrics live in
 * many regions, and building a client per invocation would redo its setup on every call.
 */
export function perRegion<T>(make: (region: string) => T): (region: string) => T {
  const clients = new Map<string, T>();
  return (region) => {
    let client = clients.get(region);
    if (client === undefined) {
      client = make(region);
      clients.set(region, client);
    }
    return client;
  };
}

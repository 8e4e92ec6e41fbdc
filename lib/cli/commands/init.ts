import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DescribeAvailabilityZonesCommand } from '@aws-sdk/client-ec2';
import { chooseZones, usableZoneNames } from '../../domain/zones';
import { normaliseName } from '../../domain/spec';
import { CliError, EXIT, ExitCode, printJson, wantsJson } from '../io';
import { CliDeps, GlobalOptions, regionOf, validated } from './context';

/** `fabricctl init`: a new fabric.json with the region's usable zones pinned. */

export interface InitOptions extends GlobalOptions {
  readonly domain: string;
  readonly zoneCount?: string;
  readonly file?: string;
  readonly force?: boolean;
}

export async function initCommand(deps: CliDeps, rawName: string, options: InitOptions): Promise<ExitCode> {
  const { io } = deps;
  const region = await regionOf(deps, options);
  const zoneCount = Number(options.zoneCount ?? 3);
  const path = resolve(io.cwd, options.file ?? 'fabric.json');
  if (existsSync(path) && !options.force) throw new CliError(EXIT.USAGE, 'SpecExists', `${path} exists; pass --force to overwrite it`);
  const name = normaliseName(rawName);
  // Check what the user typed before any AWS call.
  validated({ name: rawName, domain: options.domain, region, zoneCount });
  const { AvailabilityZones = [] } = await deps.clients(region).ec2.send(new DescribeAvailabilityZonesCommand({}));
  let zones: string[];
  try {
    // Filter first, then take: an unavailable zone never counts (lambdas/discover-zones/core.ts).
    zones = chooseZones(region, usableZoneNames(AvailabilityZones), zoneCount);
  } catch (error) {
    throw new CliError(EXIT.USAGE, (error as Error).name, (error as Error).message);
  }
  const spec = { name, domain: options.domain.trim().toLowerCase().replace(/\.$/, ''), region, zones };
  validated(spec);
  writeFileSync(path, `${JSON.stringify(spec, null, 2)}\n`);
  const next = [
    `git checkout -b fabric/${name}`,
    `git add ${options.file ?? 'fabric.json'} && git commit -m "fabric ${name}"`,
    `git push -u origin fabric/${name}    # the push trigger provisions it`,
    `# or, without a push: fabricctl up ${options.file ?? 'fabric.json'}   ` +
      `(fabricctl up --local ${options.file ?? 'fabric.json'} to try it on this machine)`,
  ];
  if (wantsJson(options)) {
    printJson(io, { path, spec, next });
  } else {
    if (name !== rawName) io.out(`name ${JSON.stringify(rawName)} normalised to ${name} (lowercase a-z and 0-9 only)\n`);
    io.out(`wrote ${path} with zones ${zones.join(', ')} of ${region} pinned\n\nnext:\n${next.map((l) => `  ${l}`).join('\n')}\n`);
  }
  return EXIT.OK;
}

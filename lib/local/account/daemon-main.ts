/**
 * The local account's daemon process (`fabricctl local start` spawns it detached, with tsx):
 * argv[2] is its JSON configuration, `{home, region, port?, repositories?}`.
 */
import { runDaemon } from './daemon';

const config = JSON.parse(process.argv[2] ?? '{}') as {
  home?: string;
  region?: string;
  port?: number;
  repositories?: Record<string, string>;
};
if (!config.home || !config.region) {
  process.stderr.write('usage: daemon-main.ts \'{"home": "...", "region": "..."}\'\n');
  process.exit(2);
}
void runDaemon({ home: config.home, region: config.region, port: config.port, repositories: config.repositories });

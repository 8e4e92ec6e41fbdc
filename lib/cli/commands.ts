/**
 * The commands `fabricctl` runs, one file per group under ./commands/ (main.ts parses the arguments).
 * Day-2 answers are in day2.ts, kubeconfig in kubeconfig.ts, the local account in local-account.ts.
 */
export * from './commands/context';
export * from './commands/init';
export * from './commands/validate';
export * from './commands/run';
export * from './commands/status';

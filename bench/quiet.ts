// Imported first by bench/run.ts: the handlers and stand-ins create their loggers at module load,
// and the benchmark's table should not be buried under their JSON lines.
process.env.FABRIC_LOG_LEVEL ??= 'silent';
export {};

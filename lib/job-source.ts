/**
 * What the build projects' source holds (the JobSource asset in fabric-orchestrator.ts): the
 * buildspecs with their scripts and the Terraform modules, without Terraform's working files of
 * local runs. Local mode copies the same folders for a build on Lambda compute.
 */
export const JOB_SOURCE_FOLDERS = ['buildspecs', 'terraform'] as const;

/** Asset exclude patterns (gitignore style): everything but the folders, minus Terraform's files. */
export const JOB_SOURCE_EXCLUDES: readonly string[] = [
  '*',
  '.*',
  ...JOB_SOURCE_FOLDERS.flatMap((folder) => [`!${folder}`, `!${folder}/**`]),
  'terraform/**/.terraform',
  'terraform/**/*.tfstate*',
];

/** The same rule for a path inside one of the folders ('/'-separated, relative to the project root). */
export function inJobSource(relativePath: string): boolean {
  const parts = relativePath.split('/');
  return !parts.includes('.terraform') && !/\.tfstate/.test(parts[parts.length - 1] ?? '');
}

/**
 * Fabric names (README, "Names"): what a raw name normalises to, and what to do about one that cannot
 * be normalised faithfully. Kept apart from spec.ts so that an entry point can check a branch name
 * without loading the spec's schema.
 */

/** Lowercase, keep only a-z and 0-9 (README, "Names"). Check `nameProblem` first: it refuses what this would drop silently. */
export function normaliseName(raw: string): string {
  return raw.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Letters that Unicode decomposition does not turn into an ASCII letter and an accent. */
const ASCII_SPELLINGS: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ł: 'l',
  ı: 'i',
  ħ: 'h',
  ŋ: 'n',
};

function asciiSpelling(raw: string): string {
  return [...raw.toLowerCase().normalize('NFKD').replace(/\p{M}/gu, '')].map((c) => ASCII_SPELLINGS[c] ?? c).join('');
}

/**
 * What to do about a raw fabric name, or `undefined` when it is fine. Letters and digits outside
 * ASCII are refused with the ASCII spelling to use: dropping them (`démo` -> `dmo`) would name
 * another fabric than the one the user wrote.
 */
export function nameProblem(raw: string): string | undefined {
  const foreign = [...new Set(raw.normalize('NFC'))].filter((c) => c > '\u007f' && /[\p{L}\p{N}\p{M}]/u.test(c));
  if (foreign.length > 0) {
    const suggestion = normaliseName(asciiSpelling(raw));
    const listed = foreign.map((c) => JSON.stringify(c)).join(', ');
    const asciiOnly = [...asciiSpelling(raw)].every((c) => c <= '\u007f' || !/[\p{L}\p{N}]/u.test(c));
    return asciiOnly && /^[a-z][a-z0-9]{0,31}$/.test(suggestion)
      ? `write the name in ASCII: "${suggestion}" (${listed} would otherwise be dropped, naming another fabric)`
      : `write the name in ASCII letters a-z and digits 0-9 (${listed} cannot be part of a fabric name)`;
  }
  const name = normaliseName(raw);
  if (name.length === 0) return 'use at least one letter a-z, e.g. "demo" (a name keeps only a-z and 0-9 after lowercasing)';
  if (name.length > 32)
    return (
      `shorten the name to at most 32 letters and digits ` +
      `(it has ${name.length} after lowercasing and dropping everything but a-z and 0-9)`
    );
  if (!/^[a-z]/.test(name)) return `start the name with a letter a-z (after normalising it is "${name}")`;
  // terraform/network names the fabric's security group <name>-cluster; EC2 refuses group names that start with sg-.
  if (name === 'sg')
    return 'pick another name: the fabric\'s security group would be "sg-cluster", and AWS refuses group names starting with "sg-"';
  return undefined;
}

/**
 * What is wrong with the `<name>` of a `fabric/<name>` branch, or `undefined`. The branch must carry
 * the fabric's name as ValidateSpec writes it: a branch that normalises to another's name would
 * take that fabric's execution names (`<name>-<commit>`) for a run that can only fail.
 */
export function fabricBranchProblem(name: string): string | undefined {
  const fix = nameProblem(name);
  if (fix) return `does not name a fabric: ${fix}`;
  const normal = normaliseName(name);
  return normal === name ? undefined : `does not name a fabric: a fabric named ${normal} lives on branch fabric/${normal}`;
}

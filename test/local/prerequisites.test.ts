import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertLocalPrerequisites,
  LocalPlatformUnsupported,
  LocalPrerequisitesMissing,
  missingLocalPrerequisites,
  SystemProbe,
  toolsEnvValue,
  versionAtLeast,
} from '../../lib/local/prerequisites';

/** A machine as the checks see it: platform, arch, which programs answer, moto, the provider mirror. */
function machine(
  overrides: Partial<SystemProbe> & { tools?: Record<string, string | undefined>; folders?: Record<string, string[]> } = {},
): SystemProbe {
  const tools: Record<string, string | undefined> = {
    terraform: '{"terraform_version":"1.11.4"}',
    jq: 'jq-1.7',
    aws: 'aws-cli/2.15.0',
    ...overrides.tools,
  };
  const folders = overrides.folders ?? {};
  return {
    platform: 'linux',
    arch: 'x64',
    run: (command) => (tools[command] === undefined ? undefined : { status: 0, stdout: tools[command] ?? '' }),
    motoInstalled: () => true,
    providerMirror: () => undefined,
    list: (path) => folders[path] ?? [],
    ...overrides,
  };
}

const fields = (probe: SystemProbe, options = {}) => missingLocalPrerequisites(probe, options).map((p) => p.field);

describe('local mode prerequisites', () => {
  test('GIVEN linux amd64 with moto, terraform 1.11.4, jq and the AWS CLI WHEN checked THEN nothing is missing', () => {
    expect(missingLocalPrerequisites(machine())).toEqual([]);
  });

  test('GIVEN nothing installed WHEN checked THEN each tool is named with how to get it, and the error says nothing was started', () => {
    const probe = machine({ motoInstalled: () => false, tools: { terraform: undefined, jq: undefined, aws: undefined } });
    const problems = missingLocalPrerequisites(probe);
    expect(problems.map((p) => p.field)).toEqual(['moto_server', 'terraform', 'jq', 'aws']);
    const fix = Object.fromEntries(problems.map((p) => [p.field, p.fix]));
    expect(fix.moto_server).toContain("pipx install 'moto[server]'");
    expect(fix.terraform).toContain('https://apt.releases.hashicorp.com');
    expect(fix.terraform).toContain('https://releases.hashicorp.com/terraform/1.11.4/terraform_1.11.4_linux_amd64.zip');
    expect(fix.jq).toBe('apt-get install jq');
    expect(fix.aws).toContain('awscli');
    const thrown = (() => {
      try {
        assertLocalPrerequisites({}, probe);
        return undefined;
      } catch (error) {
        return error as LocalPrerequisitesMissing;
      }
    })();
    expect(thrown).toBeInstanceOf(LocalPrerequisitesMissing);
    expect(thrown?.message).toBe('local mode needs moto_server, terraform, jq, aws on this machine; nothing was started');
    expect(thrown?.problems).toEqual(problems);
  });

  test.each([
    ['1.10.5', ['terraform']],
    ['1.11.0', []],
    ['1.13.2', []],
    ['2.0.0-alpha1', []],
  ])('GIVEN terraform %s WHEN checked THEN missing: %j (1.11 or newer is needed)', (version, expected) => {
    expect(fields(machine({ tools: { terraform: JSON.stringify({ terraform_version: version }) } }))).toEqual(expected);
  });

  test('fails when terraform prints no JSON version (older than 0.13), saying so', () => {
    const [problem] = missingLocalPrerequisites(machine({ tools: { terraform: 'Terraform v0.12.31' } }));
    expect(problem).toMatchObject({ field: 'terraform', received: expect.stringContaining('printed no version') });
  });

  test.each([
    ['--aws (real AWS, no emulator)', { aws: true }],
    ['--endpoint (an emulator already running)', { endpoint: 'http://127.0.0.1:5000' }],
  ])('GIVEN %s WHEN checked THEN moto is not asked for', (_case, options) => {
    expect(fields(machine({ motoInstalled: () => false, tools: { kops: 'v1.36.2' } }), options)).toEqual([]);
  });

  test.each([
    ['kops 1.36.2', [], 'v1.36.2'],
    ['kops 1.35.0', ['kops'], 'v1.35.0'],
    ['no kops', ['kops'], undefined],
  ])('GIVEN --aws and %s WHEN checked THEN missing: %j (the cluster job runs the pinned kops only)', (_case, expected, kops) => {
    expect(fields(machine({ tools: { kops } }), { aws: true })).toEqual(expected);
  });

  test('GIVEN the emulator (the kops stand-in) WHEN checked THEN no kops is asked for', () => {
    expect(fields(machine())).toEqual([]);
  });

  test('GIVEN linux arm64 WHEN checked THEN it is supported, and the terraform to get is the arm64 release', () => {
    const probe = machine({ arch: 'arm64', tools: { terraform: undefined } });
    const [problem] = missingLocalPrerequisites(probe);
    expect(problem?.fix).toContain('terraform_1.11.4_linux_arm64.zip');
  });

  test.each([
    [
      'an unpacked mirror with the arm64 build',
      [],
      { '/m/registry.terraform.io/hashicorp/aws': ['5.100.0'], '/m/registry.terraform.io/hashicorp/aws/5.100.0': ['linux_arm64'] },
    ],
    [
      'a packed mirror with the arm64 zip',
      [],
      { '/m/registry.terraform.io/hashicorp/aws': ['terraform-provider-aws_5.100.0_linux_arm64.zip'] },
    ],
    [
      'a mirror with the amd64 build only',
      ['terraform provider mirror'],
      { '/m/registry.terraform.io/hashicorp/aws': ['5.100.0'], '/m/registry.terraform.io/hashicorp/aws/5.100.0': ['linux_amd64'] },
    ],
    [
      'a mirror with the arm64 build of a version the lock file does not pin',
      ['terraform provider mirror'],
      { '/m/registry.terraform.io/hashicorp/aws': ['5.99.1'], '/m/registry.terraform.io/hashicorp/aws/5.99.1': ['linux_arm64'] },
    ],
  ])('GIVEN linux arm64 and %s WHEN checked THEN missing: %j', (_case, expected, folders) => {
    expect(fields(machine({ arch: 'arm64', providerMirror: () => '/m', folders }))).toEqual(expected);
  });

  test("GIVEN a mirror without this platform's provider WHEN checked THEN the fix names the platform to mirror", () => {
    const folders = {
      '/m/registry.terraform.io/hashicorp/aws': ['5.100.0'],
      '/m/registry.terraform.io/hashicorp/aws/5.100.0': ['linux_amd64'],
    };
    const [problem] = missingLocalPrerequisites(machine({ arch: 'arm64', providerMirror: () => '/m', folders }));
    expect(problem?.received).toBe('/m holds no linux_arm64 build of hashicorp/aws 5.100.0');
    expect(problem?.fix).toContain('terraform providers mirror -platform=linux_arm64');
  });

  test('fails on macOS before checking any tool, saying what breaks there and that the cloud commands work', () => {
    let asked = false;
    const probe = machine({
      platform: 'darwin',
      arch: 'arm64',
      motoInstalled: () => {
        asked = true;
        return true;
      },
    });
    expect(() => missingLocalPrerequisites(probe)).toThrow(LocalPlatformUnsupported);
    expect(() => missingLocalPrerequisites(probe)).toThrow(
      /this machine is darwin\/arm64\. .*mapfile; macOS's \/bin\/bash is 3\.2.*leave out --local: the cloud commands need Node\.js only/,
    );
    expect(asked).toBe(false);
  });

  test.each([
    ['win32', 'x64', /WSL2/],
    ['linux', 'ia32', /amd64 and arm64/],
    ['freebsd', 'x64', /Linux only/],
  ])('fails on %s/%s with a clear message', (platform, arch, message) => {
    expect(() => missingLocalPrerequisites(machine({ platform: platform as NodeJS.Platform, arch }))).toThrow(message);
  });
});

describe('versionAtLeast', () => {
  test.each([
    ['1.11.4', '1.11.0', true],
    ['1.11.0', '1.11.0', true],
    ['1.9.8', '1.11.0', false],
    ['1.12', '1.11.0', true],
    ['v1.11.1', '1.11.0', true],
    ['1.x', '1.11.0', false],
  ])('GIVEN %s against %s THEN %s', (have, want, expected) => {
    expect(versionAtLeast(have, want)).toBe(expected);
  });
});

test('GIVEN buildspecs/tools.env WHEN the minimum is read THEN it is the value the build scripts read', () => {
  const text = readFileSync(join(__dirname, '../../buildspecs/tools.env'), 'utf8');
  expect(toolsEnvValue('TERRAFORM_MIN_VERSION')).toBe(/^TERRAFORM_MIN_VERSION=(.*)$/m.exec(text)?.[1]);
  expect(toolsEnvValue('TERRAFORM_MIN_VERSION')).toBe('1.11.0');
});

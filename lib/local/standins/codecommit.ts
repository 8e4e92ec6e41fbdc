/**
 * STAND-IN for AWS CodeCommit's GetFile, for local mode and tests only (moto has no GetFile).
 *
 * Speaks CodeCommit's own JSON protocol (`X-Amz-Target: CodeCommit_20150413.GetFile`) on 127.0.0.1
 * and answers from a local git repository with `git show <commit>:<path>`, so the validate-spec
 * handler's real SDK call runs unchanged; local mode points it here with AWS_ENDPOINT_URL_CODECOMMIT.
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CodeCommitStandIn {
  readonly endpoint: string;
  stop(): Promise<void>;
}

function gitShow(repoDir: string, commit: string, filePath: string): Buffer | undefined {
  try {
    return execFileSync('git', ['-C', repoDir, 'show', `${commit}:${filePath}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

/** `repositories` maps a repository name to a local git working copy. */
export async function startCodeCommitStandIn(repositories: Readonly<Record<string, string>>): Promise<CodeCommitStandIn> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const reply = (status: number, body: unknown, type?: string) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...(type ? { 'x-amzn-errortype': type } : {}) });
        response.end(JSON.stringify(type ? { __type: type, message: String(body) } : body));
      };
      const target = String(request.headers['x-amz-target'] ?? '');
      if (target !== 'CodeCommit_20150413.GetFile')
        return reply(400, `the CodeCommit stand-in only answers GetFile, not ${target}`, 'InvalidActionException');
      const { repositoryName, commitSpecifier, filePath } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<
        string,
        string
      >;
      const dir = repositories[repositoryName ?? ''];
      if (!dir) return reply(400, `${repositoryName} does not exist`, 'RepositoryDoesNotExistException');
      const content = gitShow(dir, commitSpecifier ?? 'HEAD', filePath ?? '');
      if (!content) return reply(400, `${filePath} does not exist at ${commitSpecifier}`, 'FileDoesNotExistException');
      return reply(200, {
        commitId: commitSpecifier,
        blobId: 'stand-in',
        filePath,
        fileMode: 'NORMAL',
        fileSize: content.length,
        fileContent: content.toString('base64'),
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

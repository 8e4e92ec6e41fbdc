import * as path from 'node:path';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DeleteItemCommandInput,
  DynamoDBClient,
  GetItemCommand,
  GetItemCommandInput,
  PutItemCommand,
  PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { PROJECT_ROOT } from '../fabric-function';
import { allStates, type AslDefinition, type AslState } from '../definition';
import type { SynthesizedOrchestrator, SynthesizedProject } from './synth';

/**
 * One local handler per Task state of the real definition, chosen by the state's Resource, doing
 * what the service would do: Lambda tasks call the real handler in process; DynamoDB and
 * EventBridge integrations make the same SDK calls the service makes (against the emulator);
 * CodeBuild `startBuild.sync` goes to the local build runner. Every handler returns the service's
 * response shape, because ResultSelector and ResultPath run on it, and fails with the error name
 * the service would give, because Retry and Catch match on it.
 */
export type TaskHandler = (input: unknown) => Promise<unknown>;

export interface BuildRequest {
  readonly stateName: string;
  readonly projectLogicalId: string;
  readonly project: SynthesizedProject;
  readonly overrides: readonly { Name: string; Value: string; Type?: string }[];
}

export interface TaskHandlerOptions {
  readonly synthesized: SynthesizedOrchestrator;
  /** The lock table the DynamoDB tasks use instead of the one the definition names. */
  readonly lockTableName: string;
  /** Runs one build; returns `{ Build }` like startBuild.sync, or throws `States.TaskFailed`. */
  readonly runBuild: (request: BuildRequest) => Promise<unknown>;
  /** Every event put, in order, for the summary and the tests. */
  readonly onEventPut?: (entry: PutEventsRequestEntry) => void;
  /**
   * A `lambda:invoke.waitForTaskToken` task: the function has run (its result given); resolves with
   * the output of SendTaskSuccess, or rejects with SendTaskFailure's error.
   */
  readonly waitForCallback?: (token: string, functionResult: unknown) => Promise<unknown>;
}

/** An error with the name Step Functions would report. */
export class TaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** Every Task state, including those inside Parallel branches. */
export function taskStates(definition: Pick<AslDefinition, 'States'>): Array<[string, AslState]> {
  return [...allStates(definition)].filter(([, state]) => state.Type === 'Task');
}

function lambdaHandler(entry: string): TaskHandler {
  return async (input) => {
    // Loaded on first use: a handler reads its configuration at load, after local env is set.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(PROJECT_ROOT, 'lambdas', entry, 'handler.ts')) as { handler: (event: unknown) => Promise<unknown> };
    try {
      return await mod.handler(input);
    } catch (error) {
      // Lambda reports a function error as errorType + a JSON cause; Step Functions matches on errorType.
      const e = error instanceof Error ? error : new Error(String(error));
      throw new TaskError(e.name, JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }));
    }
  };
}

function sdkError(service: string, error: unknown): TaskError {
  const e = error instanceof Error ? error : new Error(String(error));
  return new TaskError(`${service}.${e.name}`, e.message);
}

function dynamoHandler(operation: string, lockTableName: string): TaskHandler {
  const client = new DynamoDBClient({});
  // The definition names the stack's table by its logical id; a local run uses its own table.
  const withTable = <T extends { TableName?: string }>(input: T): T => ({ ...input, TableName: lockTableName });
  return async (input) => {
    try {
      switch (operation) {
        case 'putItem':
          return await client.send(new PutItemCommand(withTable(input as PutItemCommandInput)));
        case 'getItem':
          return await client.send(new GetItemCommand(withTable(input as GetItemCommandInput)));
        case 'deleteItem':
          return await client.send(new DeleteItemCommand(withTable(input as DeleteItemCommandInput)));
        default:
          throw new Error(`dynamodb:${operation} has no local handler`);
      }
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new TaskError('DynamoDB.ConditionalCheckFailedException', error.message);
      throw sdkError('DynamoDB', error);
    }
  };
}

function eventsHandler(onEventPut?: (entry: PutEventsRequestEntry) => void): TaskHandler {
  const client = new EventBridgeClient({});
  return async (input) => {
    const { Entries } = input as { Entries: Array<PutEventsRequestEntry & { Detail: unknown }> };
    // The service takes Detail as an object in the task and sends it as JSON text.
    const entries = Entries.map((e) => ({ ...e, Detail: typeof e.Detail === 'string' ? e.Detail : JSON.stringify(e.Detail) }));
    try {
      const response = await client.send(new PutEventsCommand({ Entries: entries }));
      entries.forEach((entry) => onEventPut?.(entry));
      if ((response.FailedEntryCount ?? 0) > 0) throw new TaskError('EventBridge.FailedEntryError', JSON.stringify(response.Entries));
      return { Entries: response.Entries, FailedEntryCount: response.FailedEntryCount ?? 0 };
    } catch (error) {
      if (error instanceof TaskError) throw error;
      throw sdkError('EventBridge', error);
    }
  };
}

export function buildTaskHandlers(options: TaskHandlerOptions): Record<string, TaskHandler> {
  const { synthesized } = options;
  const handlers: Record<string, TaskHandler> = {};
  for (const [name, state] of taskStates(synthesized.asl)) {
    const resource = String(state.Resource);
    const lambda = /^arn:aws:lambda:[^:]+:\d+:function:(.+)$/.exec(resource);
    const integration = /^arn:aws:states:::([a-z]+):([A-Za-z]+)(\.sync|\.waitForTaskToken)?$/.exec(resource);
    if (lambda) {
      const fn = synthesized.functions[lambda[1] ?? ''];
      if (!fn) throw new Error(`state ${name} invokes ${resource}, which is not a FabricFunction of the stack`);
      handlers[name] = lambdaHandler(fn.entry);
    } else if (integration?.[1] === 'lambda' && integration[2] === 'invoke' && integration[3] === '.waitForTaskToken') {
      const functionName = String((state.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName ?? '');
      const fn = synthesized.functions[functionName.replace(/^arn:aws:lambda:[^:]+:\d+:function:/, '')];
      if (!fn) throw new Error(`state ${name} invokes ${functionName}, which is not a FabricFunction of the stack`);
      const invoke = lambdaHandler(fn.entry);
      handlers[name] = async (input) => {
        const { Payload } = input as { Payload: { taskToken?: string } };
        const result = await invoke(Payload);
        if (!options.waitForCallback || !Payload.taskToken)
          throw new Error(`state ${name} waits for a task token, and this local run takes no callbacks`);
        return options.waitForCallback(Payload.taskToken, result);
      };
    } else if (integration?.[1] === 'dynamodb') {
      handlers[name] = dynamoHandler(integration[2] ?? '', options.lockTableName);
    } else if (integration?.[1] === 'events' && integration[2] === 'putEvents') {
      handlers[name] = eventsHandler(options.onEventPut);
    } else if (integration?.[1] === 'codebuild' && integration[2] === 'startBuild' && integration[3] === '.sync') {
      handlers[name] = async (input) => {
        const { ProjectName, EnvironmentVariablesOverride } = input as {
          ProjectName: string;
          EnvironmentVariablesOverride?: BuildRequest['overrides'];
        };
        const project = synthesized.projects[ProjectName];
        if (!project) throw new Error(`state ${name} starts unknown CodeBuild project ${ProjectName}`);
        return options.runBuild({
          stateName: name,
          projectLogicalId: ProjectName,
          project,
          overrides: EnvironmentVariablesOverride ?? [],
        });
      };
    } else {
      throw new Error(`state ${name} uses ${resource}, which local mode cannot run`);
    }
  }
  return handlers;
}

/** The union of every function's environment: handlers share this process. Conflicts are errors. */
export function mergedFunctionEnvironment(synthesized: SynthesizedOrchestrator): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const [id, fn] of Object.entries(synthesized.functions)) {
    for (const [key, value] of Object.entries(fn.environment)) {
      if (key in merged && merged[key] !== value)
        throw new Error(`functions disagree on ${key} (${id}); local mode runs them in one process`);
      merged[key] = value;
    }
  }
  return merged;
}

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { clientOptions } from '../shared/clients';
import { explainFailure, ExplainEvent, TaskError } from './core';

// The builds run in the stack's region, like this function: their logs are here.
const logs = new CloudWatchLogsClient(clientOptions());

/** `ExplainFailure`: `{ fabric, error: { Error, Cause } }` -> `{ Error, Cause }` with a readable cause. */
export async function handler(event: ExplainEvent): Promise<TaskError> {
  return explainFailure(event, logs);
}

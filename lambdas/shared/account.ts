import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

/** The id of the account the caller's credentials belong to (it names the state bucket). */
export async function accountIdOf(sts: Pick<STSClient, 'send'>): Promise<string> {
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  if (!identity.Account) throw new Error('STS GetCallerIdentity returned no account id; check the credentials the function runs with');
  return identity.Account;
}

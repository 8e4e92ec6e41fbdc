/**
 * Turns the synthesized state machine into runnable ASL. The template's DefinitionString is an
 * `Fn::Join` of strings and `Ref`/`Fn::GetAtt` tokens; each token becomes a stable fake ARN or name
 * built from the resource's logical id, so a local interpreter (and the tests) can run and read it.
 */
export interface ResolvedDefinition {
  readonly asl: AslDefinition;
  /** Logical id of every resource a token pointed at, by the value it was replaced with. */
  readonly references: Readonly<Record<string, string>>;
}

/**
 * The one ASL module: the definition's types, its tokens resolved (below), and `allStates` to walk
 * it. Local mode, the bench and the CLI read definitions through these.
 */
export interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next?: string; readonly [key: string]: unknown }[];
  readonly Branches?: readonly AslMachine[];
  readonly Iterator?: AslMachine;
  readonly ItemProcessor?: AslMachine;
  readonly Resource?: string;
  readonly [key: string]: unknown;
}

/** A state machine or a Parallel branch / Map iterator: where it starts and its states. */
export interface AslMachine {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
}

export interface AslDefinition extends AslMachine {
  readonly States: Record<string, AslState>;
  readonly TimeoutSeconds?: number;
  readonly Comment?: string;
  readonly QueryLanguage?: string;
}

/** Every state by name, in Parallel branches and Map iterators too (names are unique in a state machine). */
export function allStates(machine: Pick<AslMachine, 'States'>): Map<string, AslState> {
  const states = new Map<string, AslState>();
  for (const [name, state] of Object.entries(machine.States)) {
    states.set(name, state);
    const nested = [
      ...(state.Branches ?? []),
      ...(state.Iterator ? [state.Iterator] : []),
      ...(state.ItemProcessor ? [state.ItemProcessor] : []),
    ];
    for (const inner of nested) for (const [n, s] of allStates(inner)) states.set(n, s);
  }
  return states;
}

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

const ACCOUNT = '123456789012';

function tokenValue(token: Record<string, unknown>, template: Template, region: string): { value: string; logicalId: string } {
  if ('Ref' in token) {
    const id = String(token.Ref);
    if (id === 'AWS::Partition') return { value: 'aws', logicalId: id };
    if (id === 'AWS::Region') return { value: region, logicalId: id };
    if (id === 'AWS::AccountId') return { value: ACCOUNT, logicalId: id };
    if (id === 'AWS::URLSuffix') return { value: 'amazonaws.com', logicalId: id };
    const type = template.Resources[id]?.Type;
    // Ref of a CodeBuild project or a DynamoDB table is its name; the name is the logical id here.
    if (type === undefined) throw new Error(`DefinitionString refers to unknown resource ${id}`);
    return { value: id, logicalId: id };
  }
  if ('Fn::GetAtt' in token) {
    const [id, attribute] = token['Fn::GetAtt'] as [string, string];
    const type = template.Resources[id]?.Type;
    if (attribute !== 'Arn') throw new Error(`DefinitionString uses ${id}.${attribute}; only Arn is resolved`);
    const arn =
      type === 'AWS::Lambda::Function'
        ? `arn:aws:lambda:${region}:${ACCOUNT}:function:${id}`
        : type === 'AWS::DynamoDB::GlobalTable' || type === 'AWS::DynamoDB::Table'
          ? `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${id}`
          : type === 'AWS::CodeBuild::Project'
            ? `arn:aws:codebuild:${region}:${ACCOUNT}:project/${id}`
            : `arn:aws:cloudformation:${region}:${ACCOUNT}:resource/${id}`;
    return { value: arn, logicalId: id };
  }
  throw new Error(`DefinitionString holds an unsupported token ${JSON.stringify(token)}`);
}

export function resolveDefinition(template: Template, region = 'us-east-2'): ResolvedDefinition {
  const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine in the template, found ${machines.length}`);
  const definition = machines[0]?.Properties?.DefinitionString as unknown;
  const references: Record<string, string> = {};
  let text: string;
  if (typeof definition === 'string') {
    text = definition;
  } else {
    const join = (definition as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    text = join[1]
      .map((part) => {
        if (typeof part === 'string') return part;
        const { value, logicalId } = tokenValue(part as Record<string, unknown>, template, region);
        references[value] = logicalId;
        return value;
      })
      .join(join[0]);
  }
  return { asl: JSON.parse(text) as AslDefinition, references };
}

// Tests never reach a real AWS account: fake credentials, a fixed region, quiet logs.
process.env.AWS_ACCESS_KEY_ID = 'test';
process.env.AWS_SECRET_ACCESS_KEY = 'test';
process.env.AWS_REGION = process.env.AWS_REGION ?? 'us-east-2';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.FABRIC_LOG_LEVEL = process.env.FABRIC_LOG_LEVEL ?? 'silent';
delete process.env.AWS_PROFILE;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// aws-cdk-lib validates every synthesis against CloudFormation's rules (a WebAssembly engine, about
// 4.5 CPU-seconds per synthesizing test file). test/construct/cloudformation-validate.test.ts runs that
// engine on the deployable templates; everything else synthesizes without it.
process.env.CDK_VALIDATION = process.env.CDK_VALIDATION ?? 'false';

// The common calls of every landed service through the AWS SDK for
// JavaScript v3, against OVERCAST_ENDPOINT. js_sdk_test.sh installs the
// clients and runs it; each check prints what it got and what it wanted.
import {
  S3Client, CreateBucketCommand, HeadBucketCommand, ListBucketsCommand, PutBucketVersioningCommand,
  GetBucketVersioningCommand, PutBucketTaggingCommand, GetBucketTaggingCommand, PutObjectCommand,
  HeadObjectCommand, GetObjectCommand, CopyObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand,
  CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, ListPartsCommand,
  DeleteObjectsCommand, DeleteObjectCommand, DeleteBucketCommand, GetObjectAttributesCommand,
} from "@aws-sdk/client-s3";
import {
  IAMClient, CreateUserCommand, CreateAccessKeyCommand, ListUsersCommand, GetUserCommand,
  CreateRoleCommand, DeleteRoleCommand, DeleteAccessKeyCommand, DeleteUserCommand,
} from "@aws-sdk/client-iam";
import { STSClient, GetCallerIdentityCommand, AssumeRoleCommand } from "@aws-sdk/client-sts";
import {
  CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand, GetLogEventsCommand,
  FilterLogEventsCommand, DescribeLogGroupsCommand, DeleteLogGroupCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  SSMClient, PutParameterCommand, GetParameterCommand, GetParametersByPathCommand, DeleteParametersCommand,
} from "@aws-sdk/client-ssm";
import {
  SecretsManagerClient, CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, DescribeSecretCommand,
  ListSecretsCommand, DeleteSecretCommand,
} from "@aws-sdk/client-secrets-manager";
import {
  ECRClient, CreateRepositoryCommand, DescribeRepositoriesCommand, GetAuthorizationTokenCommand,
  ListImagesCommand, DeleteRepositoryCommand,
} from "@aws-sdk/client-ecr";
import {
  CloudFrontClient, CreateDistributionCommand, GetDistributionCommand, GetDistributionConfigCommand,
  ListDistributionsCommand, UpdateDistributionCommand, DeleteDistributionCommand, CreateInvalidationCommand,
  GetInvalidationCommand, ListInvalidationsCommand, CreatePublicKeyCommand, CreateKeyGroupCommand,
  waitUntilDistributionDeployed, waitUntilInvalidationCompleted,
} from "@aws-sdk/client-cloudfront";
import { getSignedUrl, getSignedCookies } from "@aws-sdk/cloudfront-signer";
import { generateKeyPairSync } from "node:crypto";
import http from "node:http";

const endpoint = process.env.OVERCAST_ENDPOINT;
if (!endpoint) throw new Error("OVERCAST_ENDPOINT is not set: run through test/e2e/run.sh");
const region = "us-east-1";
const rootCreds = { accessKeyId: "test", secretAccessKey: "test" };
const config = (credentials = rootCreds) => ({ endpoint, region, credentials, maxAttempts: 1 });
const run = Date.now().toString(36);

let failures = 0;
function expectEq(what, got, want) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) {
    console.error(`  FAIL: ${what}: got ${g}, want ${w}`);
    failures++;
  }
}

// expectError runs a call that must fail with the AWS error code want.
async function expectError(what, call, want) {
  try {
    await call();
    console.error(`  FAIL: ${what}: got no error, want ${want}`);
    failures++;
  } catch (err) {
    expectEq(`${what}: error`, err.name, want);
  }
}

// step runs one service's checks; an exception fails it with its message.
async function step(name, fn) {
  console.log(`  ${name}`);
  try {
    await fn();
  } catch (err) {
    console.error(`  FAIL: ${name}: ${err.name}: ${err.message}`);
    failures++;
  }
}

await step("s3", async () => {
  // forcePathStyle: every bucket operation goes to /<bucket>/.
  const s3 = new S3Client({ ...config(), forcePathStyle: true });
  const Bucket = `e2e-js-${run}`;
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new CreateBucketCommand({ Bucket })); // us-east-1: 200 OK for a bucket you own
  const euS3 = new S3Client({ ...config(), region: "eu-west-1", forcePathStyle: true });
  await expectError("CreateBucket again outside us-east-1",
    () => euS3.send(new CreateBucketCommand({ Bucket, CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } })),
    "BucketAlreadyOwnedByYou");
  await s3.send(new HeadBucketCommand({ Bucket }));
  const buckets = await s3.send(new ListBucketsCommand({}));
  expectEq("ListBuckets has the bucket", buckets.Buckets.some((b) => b.Name === Bucket), true);
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: "Enabled" } }));
  expectEq("GetBucketVersioning", (await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status, "Enabled");
  await s3.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [{ Key: "team", Value: "ci" }] } }));
  expectEq("GetBucketTagging", (await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet, [{ Key: "team", Value: "ci" }]);

  const put = await s3.send(new PutObjectCommand({ Bucket, Key: "docs/a.txt", Body: "hello", ContentType: "text/plain",
    Metadata: { md: "value" } }));
  expectEq("PutObject ETag", put.ETag, '"5d41402abc4b2a76b9719d911017c592"');
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "docs/a.txt" }));
  expectEq("HeadObject", [head.ContentLength, head.ContentType, head.Metadata], [5, "text/plain", { md: "value" }]);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: "docs/a.txt" }));
  expectEq("GetObject body", await got.Body.transformToString(), "hello");
  await expectError("GetObject of a missing key", () => s3.send(new GetObjectCommand({ Bucket, Key: "missing" })), "NoSuchKey");
  await s3.send(new CopyObjectCommand({ Bucket, Key: "docs/b.txt", CopySource: `${Bucket}/docs/a.txt` }));
  const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket, Key: "docs/b.txt", ObjectAttributes: ["ObjectSize", "StorageClass"] }));
  expectEq("GetObjectAttributes", [attrs.ObjectSize, attrs.StorageClass], [5, "STANDARD"]);

  const Key = "big.bin";
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const part1 = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(5 << 20, 1) }));
  const part2 = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: "tail" }));
  const parts = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
  expectEq("ListParts", parts.Parts.map((p) => p.PartNumber), [1, 2]);
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId,
    MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part1.ETag }, { PartNumber: 2, ETag: part2.ETag }] } }));
  expectEq("multipart ETag", done.ETag.endsWith('-2"'), true);

  const list = await s3.send(new ListObjectsV2Command({ Bucket, Delimiter: "/" }));
  expectEq("ListObjectsV2", [list.Contents.map((o) => o.Key), list.CommonPrefixes.map((p) => p.Prefix)], [["big.bin"], ["docs/"]]);
  const prefixed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "docs/" }));
  expectEq("ListObjectsV2 with a prefix", prefixed.Contents.map((o) => o.Key), ["docs/a.txt", "docs/b.txt"]);

  await s3.send(new DeleteObjectCommand({ Bucket, Key: "docs/a.txt" }));
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  expectEq("delete markers", versions.DeleteMarkers.map((m) => m.Key), ["docs/a.txt"]);
  const everything = [...versions.Versions, ...versions.DeleteMarkers].map((v) => ({ Key: v.Key, VersionId: v.VersionId }));
  const deleted = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: everything } }));
  expectEq("DeleteObjects", [deleted.Deleted.length, deleted.Errors], [everything.length, undefined]);
  await s3.send(new DeleteBucketCommand({ Bucket }));
  await expectError("HeadBucket of a deleted bucket", () => s3.send(new HeadBucketCommand({ Bucket })), "NotFound");
});

await step("sts and iam", async () => {
  const sts = new STSClient(config());
  const me = await sts.send(new GetCallerIdentityCommand({}));
  expectEq("GetCallerIdentity", [me.Account, me.Arn], ["000000000000", "arn:aws:iam::000000000000:root"]);

  const iam = new IAMClient(config());
  const UserName = `e2e-js-${run}`;
  await iam.send(new CreateUserCommand({ UserName, Tags: [{ Key: "team", Value: "ci" }] }));
  await expectError("CreateUser again", () => iam.send(new CreateUserCommand({ UserName })), "EntityAlreadyExistsException");
  expectEq("GetUser", (await iam.send(new GetUserCommand({ UserName }))).User.Arn, `arn:aws:iam::000000000000:user/${UserName}`);
  const users = await iam.send(new ListUsersCommand({}));
  expectEq("ListUsers has the user", users.Users.some((u) => u.UserName === UserName), true);
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName }));
  const asUser = new STSClient(config({ accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey }));
  expectEq("the new key's identity", (await asUser.send(new GetCallerIdentityCommand({}))).Arn,
    `arn:aws:iam::000000000000:user/${UserName}`);

  const RoleName = `e2e-js-role-${run}`;
  const trust = { Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::000000000000:root" }, Action: "sts:AssumeRole" }] };
  await iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: JSON.stringify(trust) }));
  const { Credentials } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::000000000000:role/${RoleName}`,
    RoleSessionName: "js" }));
  const asRole = new STSClient(config({ accessKeyId: Credentials.AccessKeyId, secretAccessKey: Credentials.SecretAccessKey,
    sessionToken: Credentials.SessionToken }));
  expectEq("the assumed role's identity", (await asRole.send(new GetCallerIdentityCommand({}))).Arn,
    `arn:aws:sts::000000000000:assumed-role/${RoleName}/js`);

  await iam.send(new DeleteRoleCommand({ RoleName }));
  await iam.send(new DeleteAccessKeyCommand({ UserName, AccessKeyId: AccessKey.AccessKeyId }));
  await iam.send(new DeleteUserCommand({ UserName }));
  await expectError("GetUser of a deleted user", () => iam.send(new GetUserCommand({ UserName })), "NoSuchEntityException");
});

await step("logs", async () => {
  const logs = new CloudWatchLogsClient(config());
  const logGroupName = `/e2e/js/${run}`, logStreamName = "web/1";
  await logs.send(new CreateLogGroupCommand({ logGroupName }));
  await expectError("CreateLogGroup again", () => logs.send(new CreateLogGroupCommand({ logGroupName })),
    "ResourceAlreadyExistsException");
  await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
  const now = Date.now();
  await logs.send(new PutLogEventsCommand({ logGroupName, logStreamName,
    logEvents: [{ timestamp: now, message: "INFO up" }, { timestamp: now + 1, message: "ERROR down" }] }));
  const events = await logs.send(new GetLogEventsCommand({ logGroupName, logStreamName, startFromHead: true }));
  expectEq("GetLogEvents", events.events.map((e) => e.message), ["INFO up", "ERROR down"]);
  const filtered = await logs.send(new FilterLogEventsCommand({ logGroupName, filterPattern: "ERROR" }));
  expectEq("FilterLogEvents", filtered.events.map((e) => e.message), ["ERROR down"]);
  const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: logGroupName }));
  expectEq("DescribeLogGroups", groups.logGroups.map((g) => g.logGroupName), [logGroupName]);
  await logs.send(new DeleteLogGroupCommand({ logGroupName }));
  await expectError("DeleteLogGroup again", () => logs.send(new DeleteLogGroupCommand({ logGroupName })),
    "ResourceNotFoundException");
});

await step("ssm", async () => {
  const ssm = new SSMClient(config());
  const path = `/e2e/js/${run}`;
  const put = await ssm.send(new PutParameterCommand({ Name: `${path}/url`, Value: "db.local", Type: "String" }));
  expectEq("PutParameter version", put.Version, 1);
  await ssm.send(new PutParameterCommand({ Name: `${path}/password`, Value: "s3cr3t", Type: "SecureString" }));
  const plain = await ssm.send(new GetParameterCommand({ Name: `${path}/url` }));
  expectEq("GetParameter", plain.Parameter.Value, "db.local");
  const secret = await ssm.send(new GetParameterCommand({ Name: `${path}/password`, WithDecryption: true }));
  expectEq("GetParameter with decryption", secret.Parameter.Value, "s3cr3t");
  const byPath = await ssm.send(new GetParametersByPathCommand({ Path: path, WithDecryption: true }));
  expectEq("GetParametersByPath", byPath.Parameters.map((p) => p.Name).sort(), [`${path}/password`, `${path}/url`]);
  await expectError("GetParameter of a missing one", () => ssm.send(new GetParameterCommand({ Name: `${path}/missing` })),
    "ParameterNotFound");
  const del = await ssm.send(new DeleteParametersCommand({ Names: [`${path}/url`, `${path}/password`] }));
  expectEq("DeleteParameters", del.DeletedParameters.length, 2);
});

await step("secretsmanager", async () => {
  const sm = new SecretsManagerClient(config());
  const Name = `e2e/js/${run}`;
  const created = await sm.send(new CreateSecretCommand({ Name, SecretString: "one" }));
  expectEq("CreateSecret ARN", created.ARN.startsWith("arn:aws:secretsmanager:us-east-1:000000000000:secret:"), true);
  expectEq("GetSecretValue", (await sm.send(new GetSecretValueCommand({ SecretId: Name }))).SecretString, "one");
  await sm.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: "two" }));
  expectEq("GetSecretValue after PutSecretValue", (await sm.send(new GetSecretValueCommand({ SecretId: Name }))).SecretString, "two");
  const previous = await sm.send(new GetSecretValueCommand({ SecretId: Name, VersionStage: "AWSPREVIOUS" }));
  expectEq("AWSPREVIOUS", previous.SecretString, "one");
  expectEq("DescribeSecret", (await sm.send(new DescribeSecretCommand({ SecretId: Name }))).Name, Name);
  const listed = await sm.send(new ListSecretsCommand({}));
  expectEq("ListSecrets has the secret", listed.SecretList.some((s) => s.Name === Name), true);
  await sm.send(new DeleteSecretCommand({ SecretId: Name, ForceDeleteWithoutRecovery: true }));
  await expectError("GetSecretValue of a deleted secret", () => sm.send(new GetSecretValueCommand({ SecretId: Name })),
    "ResourceNotFoundException");
});

await step("ecr", async () => {
  const ecr = new ECRClient(config());
  const repositoryName = `e2e/js-${run}`;
  const { repository } = await ecr.send(new CreateRepositoryCommand({ repositoryName }));
  expectEq("repository URI", repository.repositoryUri, `${new URL(endpoint).host}/${repositoryName}`);
  await expectError("CreateRepository again", () => ecr.send(new CreateRepositoryCommand({ repositoryName })),
    "RepositoryAlreadyExistsException");
  const repos = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repositoryName] }));
  expectEq("DescribeRepositories", repos.repositories.map((r) => r.repositoryName), [repositoryName]);
  const token = await ecr.send(new GetAuthorizationTokenCommand({}));
  const user = Buffer.from(token.authorizationData[0].authorizationToken, "base64").toString().split(":")[0];
  expectEq("authorization token user", user, "AWS");
  expectEq("ListImages", (await ecr.send(new ListImagesCommand({ repositoryName }))).imageIds, []);
  await ecr.send(new DeleteRepositoryCommand({ repositoryName }));
  await expectError("DescribeRepositories of a deleted one",
    () => ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repositoryName] })), "RepositoryNotFoundException");
});

// edgeGet asks the CloudFront edge at endpoint for url, naming its host in
// the Host header (no DNS needed); cookies, when given, go as Cookie.
function edgeGet(url, cookies) {
  const { host, pathname, search } = new URL(url);
  const headers = { Host: host, ...(cookies && { Cookie: cookies }) };
  return new Promise((resolve, reject) => {
    http.get(new URL(pathname + search, endpoint), { headers }, (res) => {
      let body = "";
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve([res.statusCode, (res.headers["x-cache"] ?? "").split(" ")[0], body]));
    }).on("error", reject);
  });
}

await step("cloudfront", async () => {
  const cf = new CloudFrontClient(config());
  // The SDK's waiters poll every minDelay seconds (60 by default for CloudFront).
  const waiter = { client: cf, minDelay: 1, maxDelay: 1, maxWaitTime: 30 };
  const origin = http.createServer((req, res) => {
    res.setHeader("Cache-Control", "max-age=3600");
    res.end(`origin ${req.url.split("?")[0]}`);
  });
  await new Promise((resolve) => origin.listen(0, "127.0.0.1", resolve));
  try {
    await cloudFront(cf, waiter, origin.address().port);
  } finally {
    origin.close();
  }
});

async function cloudFront(cf, waiter, originPort) {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
  const key = await cf.send(new CreatePublicKeyCommand({ PublicKeyConfig: {
    CallerReference: `e2e-js-${run}`, Name: `e2e-js-${run}`, EncodedKey: publicKey } }));
  const group = await cf.send(new CreateKeyGroupCommand({ KeyGroupConfig: { Name: `e2e-js-${run}`, Items: [key.PublicKey.Id] } }));
  const CachePolicyId = "658327ea-f89d-4fab-a63d-7e88639e58f6"; // Managed-CachingOptimized
  const DistributionConfig = {
    CallerReference: `e2e-js-${run}`, Comment: "js sdk", Enabled: true,
    Origins: { Quantity: 1, Items: [{ Id: "web", DomainName: "127.0.0.1",
      CustomOriginConfig: { HTTPPort: originPort, HTTPSPort: 443, OriginProtocolPolicy: "http-only" } }] },
    DefaultCacheBehavior: { TargetOriginId: "web", ViewerProtocolPolicy: "allow-all", CachePolicyId },
    CacheBehaviors: { Quantity: 1, Items: [{ PathPattern: "/private/*", TargetOriginId: "web", ViewerProtocolPolicy: "allow-all",
      CachePolicyId, TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: [group.KeyGroup.Id] } }] },
  };
  const created = await cf.send(new CreateDistributionCommand({ DistributionConfig }));
  const { Id, DomainName } = created.Distribution;
  expectEq("DomainName", DomainName, `${Id.toLowerCase()}.cloudfront.localhost`);
  expectEq("Location", created.Location.endsWith(`/2020-05-31/distribution/${Id}`), true);
  await waitUntilDistributionDeployed(waiter, { Id });
  const got = await cf.send(new GetDistributionCommand({ Id }));
  expectEq("GetDistribution", [got.Distribution.Status, got.Distribution.DistributionConfig.Comment, got.ETag], ["Deployed", "js sdk", created.ETag]);
  const listed = await cf.send(new ListDistributionsCommand({}));
  expectEq("ListDistributions has it", listed.DistributionList.Items.some((d) => d.Id === Id && d.DomainName === DomainName), true);

  const base = `http://${DomainName}:${new URL(endpoint).port}`;
  expectEq("first request", await edgeGet(`${base}/index.html`), [200, "Miss", "origin /index.html"]);
  expectEq("second request", await edgeGet(`${base}/index.html`), [200, "Hit", "origin /index.html"]);
  const url = `${base}/private/a.txt`;
  const keyPairId = key.PublicKey.Id;
  expectEq("unsigned", (await edgeGet(url))[0], 403);
  const dateLessThan = new Date(Date.now() + 3600_000).toISOString();
  expectEq("getSignedUrl", await edgeGet(getSignedUrl({ url, keyPairId, privateKey, dateLessThan })), [200, "Miss", "origin /private/a.txt"]);
  const cookies = getSignedCookies({ url, keyPairId, privateKey, dateLessThan });
  const cookieHeader = Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join("; ");
  expectEq("getSignedCookies", await edgeGet(url, cookieHeader), [200, "Hit", "origin /private/a.txt"]);
  const expired = getSignedUrl({ url, keyPairId, privateKey, dateLessThan: "2020-01-01T00:00:00Z" });
  expectEq("expired", (await edgeGet(expired))[0], 403);

  const inv = await cf.send(new CreateInvalidationCommand({ DistributionId: Id, InvalidationBatch: {
    CallerReference: `inv-${run}`, Paths: { Quantity: 2, Items: ["/index.html", "/img/*"] } } }));
  await waitUntilInvalidationCompleted(waiter, { DistributionId: Id, Id: inv.Invalidation.Id });
  const gotInv = await cf.send(new GetInvalidationCommand({ DistributionId: Id, Id: inv.Invalidation.Id }));
  expectEq("GetInvalidation", [gotInv.Invalidation.Status, gotInv.Invalidation.InvalidationBatch.Paths.Items],
    ["Completed", ["/index.html", "/img/*"]]);
  const invs = await cf.send(new ListInvalidationsCommand({ DistributionId: Id }));
  expectEq("ListInvalidations", invs.InvalidationList.Items.map((i) => [i.Id, i.Status]), [[inv.Invalidation.Id, "Completed"]]);
  expectEq("after the invalidation", await edgeGet(`${base}/index.html`), [200, "Miss", "origin /index.html"]);

  const current = await cf.send(new GetDistributionConfigCommand({ Id }));
  await expectError("DeleteDistribution while enabled", () => cf.send(new DeleteDistributionCommand({ Id, IfMatch: current.ETag })),
    "DistributionNotDisabled");
  const disabled = await cf.send(new UpdateDistributionCommand({ Id, IfMatch: current.ETag,
    DistributionConfig: { ...current.DistributionConfig, Enabled: false } }));
  await expectError("UpdateDistribution with a stale ETag", () => cf.send(new UpdateDistributionCommand({ Id, IfMatch: current.ETag,
    DistributionConfig: current.DistributionConfig })), "PreconditionFailed");
  await waitUntilDistributionDeployed(waiter, { Id });
  await cf.send(new DeleteDistributionCommand({ Id, IfMatch: disabled.ETag }));
  await expectError("GetDistribution of a deleted one", () => cf.send(new GetDistributionCommand({ Id })), "NoSuchDistribution");
}

process.exit(failures > 0 ? 1 : 0);

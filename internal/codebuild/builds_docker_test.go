package codebuild_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/docker/dockertest"
	"overcast/internal/service/servicetest"
)

var runID = dockertest.RandomHex(4)

// shellImage is the busybox image builds run in (no registry is reachable
// to pull AWS's images from), imported once for the package's tests.
var shellImage = dockertest.NewShellImage("codebuild-service", runID)

// TestMain removes the shell image after the tests ran.
func TestMain(m *testing.M) { shellImage.Main(m) }

// shellProject is noSourceProject running in the shell image.
func shellProject(t *testing.T, name, buildspec string) *codebuild.CreateProjectInput {
	t.Helper()
	in := noSourceProject(name, buildspec)
	in.Environment.Image = aws.String(buildImage(t))
	return in
}

// buildImage is the shell image's reference, importing it on first use.
func buildImage(t *testing.T) string {
	t.Helper()
	return shellImage.Get(t)
}

// waitForBuild waits for the build to complete and returns it.
func waitForBuild(t *testing.T, c *codebuild.Client, id string) types.Build {
	t.Helper()
	var b types.Build
	servicetest.WaitForEvery(t, "build "+id+" to complete", 100*time.Millisecond, 3*time.Minute, func() bool {
		out, err := c.BatchGetBuilds(context.Background(), &codebuild.BatchGetBuildsInput{Ids: []string{id}})
		if err != nil || len(out.Builds) != 1 {
			return false
		}
		b = out.Builds[0]
		return b.BuildComplete
	})
	return b
}

func phases(b types.Build) []string {
	var out []string
	for _, p := range b.Phases {
		out = append(out, string(p.PhaseType)+":"+string(p.PhaseStatus))
	}
	return out
}

// seedBuildspec is the seed: a parameter-store variable, four
// phases, an artifact file and a cache path, and an exported variable.
const seedBuildspec = `version: 0.2
env:
  variables:
    STAGE: test
  parameter-store:
    GREETING: /app/greeting
  secrets-manager:
    TOKEN: app/api:token
  exported-variables:
    - BUILT_BY
phases:
  install:
    commands:
      - echo installing
  pre_build:
    commands:
      - echo "$GREETING from $STAGE" > greeting.txt
  build:
    commands:
      - mkdir -p out deps && cp greeting.txt out/ && echo cached > deps/marker && echo "$TOKEN" > out/token.txt
      - export BUILT_BY="build $CODEBUILD_BUILD_NUMBER"
  post_build:
    commands:
      - echo "post_build with CODEBUILD_BUILD_SUCCEEDING=$CODEBUILD_BUILD_SUCCEEDING"
artifacts:
  files:
    - out/greeting.txt
    - out/token.txt
cache:
  paths:
    - deps/**/*
`

func TestSeedBuildEndToEnd(t *testing.T) {
	srv := awstest.Start(t)
	cfg := srv.Config()
	c, s3c, ssmc := codebuild.NewFromConfig(cfg), s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), ssm.NewFromConfig(cfg)
	awstest.Call(t, s3c.CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("artifacts")})
	awstest.Call(t, ssmc.PutParameter, &ssm.PutParameterInput{Name: aws.String("/app/greeting"), Value: aws.String("hello"), Type: ssmtypes.ParameterTypeSecureString})
	awstest.Call(t, secretsmanager.NewFromConfig(cfg).CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("app/api"),
		SecretString: aws.String(`{"token":"t0k3n","port":8443}`)})

	in := shellProject(t, "seed", seedBuildspec)
	in.Artifacts = &types.ProjectArtifacts{Type: types.ArtifactsTypeS3, Location: aws.String("artifacts"), Name: aws.String("app.zip"),
		Packaging: types.ArtifactPackagingZip}
	in.Cache = &types.ProjectCache{Type: types.CacheTypeS3, Location: aws.String("artifacts/cache")}
	awstest.Call(t, c.CreateProject, in)

	id := aws.ToString(awstest.Call(t, c.StartBuild, &codebuild.StartBuildInput{ProjectName: aws.String("seed")}).Build.Id)
	b := waitForBuild(t, c, id)
	if b.BuildStatus != types.StatusTypeSucceeded {
		t.Fatalf("build status: got %s, want SUCCEEDED; phases %v", b.BuildStatus, phases(b))
	}
	want := []string{"SUBMITTED:SUCCEEDED", "QUEUED:SUCCEEDED", "PROVISIONING:SUCCEEDED", "DOWNLOAD_SOURCE:SUCCEEDED",
		"INSTALL:SUCCEEDED", "PRE_BUILD:SUCCEEDED", "BUILD:SUCCEEDED", "POST_BUILD:SUCCEEDED", "UPLOAD_ARTIFACTS:SUCCEEDED",
		"FINALIZING:SUCCEEDED", "COMPLETED:"}
	if diff := cmp.Diff(want, phases(b)); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	if got := aws.ToString(b.Artifacts.Location); got != "arn:aws:s3:::artifacts/app.zip" {
		t.Errorf("artifact location: got %q, want arn:aws:s3:::artifacts/app.zip", got)
	}
	if len(b.ExportedEnvironmentVariables) != 1 || aws.ToString(b.ExportedEnvironmentVariables[0].Value) != "build 1" {
		t.Errorf("exported variables: got %+v, want BUILT_BY=build 1", b.ExportedEnvironmentVariables)
	}

	obj := awstest.Call(t, s3c.GetObject, &s3.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("app.zip")})
	body, _ := io.ReadAll(obj.Body)
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("the artifact is not a zip: %v", err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	// The parameter's and the secret's values, as the build saw them.
	wantFiles := map[string]string{"out/greeting.txt": "hello from test\n", "out/token.txt": "t0k3n\n"}
	if diff := cmp.Diff(wantFiles, files); diff != "" {
		t.Errorf("the artifact's files (-want +got):\n%s", diff)
	}
	caches := awstest.Call(t, s3c.ListObjectsV2, &s3.ListObjectsV2Input{Bucket: aws.String("artifacts"), Prefix: aws.String("cache/")})
	if len(caches.Contents) == 0 {
		t.Errorf("no cache saved under s3://artifacts/cache/")
	}

	logs := cloudwatchlogs.NewFromConfig(cfg)
	events := awstest.Call(t, logs.GetLogEvents, &cloudwatchlogs.GetLogEventsInput{LogGroupName: b.Logs.GroupName,
		LogStreamName: b.Logs.StreamName, StartFromHead: aws.Bool(true)})
	var log strings.Builder
	for _, e := range events.Events {
		log.WriteString(aws.ToString(e.Message) + "\n")
	}
	if !strings.Contains(log.String(), "post_build with CODEBUILD_BUILD_SUCCEEDING=1") {
		t.Errorf("the log in %s/%s lacks post_build's line:\n%s", aws.ToString(b.Logs.GroupName), aws.ToString(b.Logs.StreamName), log.String())
	}
}

// TestFailedBuildNotifiesThroughEventBridge is the seed's "CloudWatch
// Events rule when a build fails": a rule on CodeBuild Build State Change
// with build-status FAILED sends the event to a queue.
func TestFailedBuildNotifiesThroughEventBridge(t *testing.T) {
	srv := awstest.Start(t)
	cfg := srv.Config()
	c, eb, q := codebuild.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)

	url := aws.ToString(awstest.Call(t, q.CreateQueue, &sqs.CreateQueueInput{QueueName: aws.String("build-failures")}).QueueUrl)
	queueARN := "arn:aws:sqs:" + region + ":" + account + ":build-failures"
	ruleARN := aws.ToString(awstest.Call(t, eb.PutRule, &eventbridge.PutRuleInput{Name: aws.String("failed-builds"),
		EventPattern: aws.String(`{"source":["aws.codebuild"],"detail-type":["CodeBuild Build State Change"],"detail":{"build-status":["FAILED"]}}`)}).RuleArn)
	awstest.Call(t, q.SetQueueAttributes, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{"Policy": fmt.Sprintf(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":%q,"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}]}`,
		queueARN, ruleARN)}})
	awstest.Call(t, eb.PutTargets, &eventbridge.PutTargetsInput{Rule: aws.String("failed-builds"),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: &queueARN}}})

	in := shellProject(t, "broken", "version: 0.2\nphases:\n  build:\n    commands:\n      - echo building\n      - false\n  post_build:\n    commands:\n      - echo \"succeeding=$CODEBUILD_BUILD_SUCCEEDING\"\n")
	awstest.Call(t, c.CreateProject, in)
	id := aws.ToString(awstest.Call(t, c.StartBuild, &codebuild.StartBuildInput{ProjectName: aws.String("broken")}).Build.Id)
	b := waitForBuild(t, c, id)
	if b.BuildStatus != types.StatusTypeFailed {
		t.Fatalf("build status: got %s, want FAILED", b.BuildStatus)
	}
	want := []string{"SUBMITTED:SUCCEEDED", "QUEUED:SUCCEEDED", "PROVISIONING:SUCCEEDED", "DOWNLOAD_SOURCE:SUCCEEDED",
		"INSTALL:SUCCEEDED", "PRE_BUILD:SUCCEEDED", "BUILD:FAILED", "POST_BUILD:SUCCEEDED", "UPLOAD_ARTIFACTS:SUCCEEDED",
		"FINALIZING:SUCCEEDED", "COMPLETED:"}
	if diff := cmp.Diff(want, phases(b)); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	for _, p := range b.Phases {
		if p.PhaseType == types.BuildPhaseTypeBuild && (len(p.Contexts) == 0 || aws.ToString(p.Contexts[0].StatusCode) != "COMMAND_EXECUTION_ERROR") {
			t.Errorf("BUILD's contexts: got %+v, want COMMAND_EXECUTION_ERROR", p.Contexts)
		}
	}

	var msg string
	servicetest.WaitForEvery(t, "the failure event in the queue", 100*time.Millisecond, 30*time.Second, func() bool {
		out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url})
		if err != nil || len(out.Messages) == 0 {
			return false
		}
		msg = aws.ToString(out.Messages[0].Body)
		return true
	})
	var ev struct {
		DetailType string `json:"detail-type"`
		Source     string `json:"source"`
		Detail     struct {
			Status  string `json:"build-status"`
			Project string `json:"project-name"`
			BuildID string `json:"build-id"`
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(msg), &ev); err != nil {
		t.Fatalf("message %q: %v", msg, err)
	}
	if ev.Source != "aws.codebuild" || ev.DetailType != "CodeBuild Build State Change" || ev.Detail.Status != "FAILED" ||
		ev.Detail.Project != "broken" || ev.Detail.BuildID != aws.ToString(b.Arn) {
		t.Errorf("event: got %+v", ev)
	}
}

// sourceBuildspec reports what DOWNLOAD_SOURCE brought: the file the
// source carries and the version CodeBuild resolved.
const sourceBuildspec = `version: 0.2
env:
  exported-variables:
    - CONTENT
    - RESOLVED
phases:
  build:
    commands:
      - export CONTENT="$(cat hello.txt)"
      - export RESOLVED="$CODEBUILD_RESOLVED_SOURCE_VERSION"
`

// exported is a build's exported variables by name.
func exported(b types.Build) map[string]string {
	out := map[string]string{}
	for _, v := range b.ExportedEnvironmentVariables {
		out[aws.ToString(v.Name)] = aws.ToString(v.Value)
	}
	return out
}

func TestCodeCommitSource(t *testing.T) {
	image := buildImage(t)
	srv := awstest.Start(t)
	cfg := srv.Config()
	c, cc := codebuild.NewFromConfig(cfg), codecommit.NewFromConfig(cfg)
	repo := awstest.Call(t, cc.CreateRepository, &codecommit.CreateRepositoryInput{RepositoryName: aws.String("app")}).RepositoryMetadata
	first := awstest.Call(t, cc.PutFile, &codecommit.PutFileInput{RepositoryName: aws.String("app"), BranchName: aws.String("main"),
		FilePath: aws.String("buildspec.yml"), FileContent: []byte(sourceBuildspec)}).CommitId
	tagged := awstest.Call(t, cc.PutFile, &codecommit.PutFileInput{RepositoryName: aws.String("app"), BranchName: aws.String("main"),
		FilePath: aws.String("hello.txt"), FileContent: []byte("one"), ParentCommitId: first}).CommitId
	latest := awstest.Call(t, cc.PutFile, &codecommit.PutFileInput{RepositoryName: aws.String("app"), BranchName: aws.String("main"),
		FilePath: aws.String("hello.txt"), FileContent: []byte("two"), ParentCommitId: tagged}).CommitId

	in := noSourceProject("from-codecommit", "")
	in.Source = &types.ProjectSource{Type: types.SourceTypeCodecommit, Location: repo.CloneUrlHttp}
	in.Environment.Image = aws.String(image)
	awstest.Call(t, c.CreateProject, in)

	for _, tt := range []struct{ version, content, commit string }{
		{"", "two", aws.ToString(latest)},
		{"main", "two", aws.ToString(latest)},
		{"refs/heads/main", "two", aws.ToString(latest)},
		{aws.ToString(tagged), "one", aws.ToString(tagged)},
	} {
		start := &codebuild.StartBuildInput{ProjectName: aws.String("from-codecommit")}
		if tt.version != "" {
			start.SourceVersion = aws.String(tt.version)
		}
		b := waitForBuild(t, c, aws.ToString(awstest.Call(t, c.StartBuild, start).Build.Id))
		if b.BuildStatus != types.StatusTypeSucceeded {
			t.Errorf("version %q: build %s, phases %v", tt.version, b.BuildStatus, phases(b))
			continue
		}
		want := map[string]string{"CONTENT": tt.content, "RESOLVED": tt.commit}
		if diff := cmp.Diff(want, exported(b)); diff != "" {
			t.Errorf("version %q (-want +got):\n%s", tt.version, diff)
		}
		if got := aws.ToString(b.ResolvedSourceVersion); got != tt.commit {
			t.Errorf("version %q: resolvedSourceVersion %q, want %q", tt.version, got, tt.commit)
		}
	}
}

// zipOf is a zip archive of the files.
func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestS3AndGitSources(t *testing.T) {
	image := buildImage(t)
	srv := awstest.Start(t)
	cfg := srv.Config()
	c, s3c := codebuild.NewFromConfig(cfg), s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	awstest.Call(t, s3c.CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("sources")})
	put := func(key string, body []byte) {
		awstest.Call(t, s3c.PutObject, &s3.PutObjectInput{Bucket: aws.String("sources"), Key: aws.String(key), Body: bytes.NewReader(body)})
	}
	put("app.zip", zipOf(t, map[string]string{"buildspec.yml": sourceBuildspec, "hello.txt": "zipped"}))
	put("evil.zip", zipOf(t, map[string]string{"buildspec.yml": sourceBuildspec, "../escaped.txt": "out"}))
	put("folder/buildspec.yml", []byte(sourceBuildspec))
	put("folder/hello.txt", []byte("foldered"))

	repo := t.TempDir()
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"config", "user.email", "t@example.com"}, {"config", "user.name", "t"}} {
		gitIn(t, repo, args...)
	}
	os.WriteFile(repo+"/buildspec.yml", []byte(sourceBuildspec), 0o644)
	os.WriteFile(repo+"/hello.txt", []byte("cloned"), 0o644)
	gitIn(t, repo, "add", ".")
	gitIn(t, repo, "commit", "-q", "-m", "first")
	head := strings.TrimSpace(gitIn(t, repo, "rev-parse", "HEAD"))

	in := noSourceProject("sources", "")
	in.Source = &types.ProjectSource{Type: types.SourceTypeS3, Location: aws.String("sources/app.zip")}
	in.Environment.Image = aws.String(image)
	awstest.Call(t, c.CreateProject, in)

	for _, tt := range []struct {
		typ       types.SourceType
		location  string
		content   string
		failPhase types.BuildPhaseType
	}{
		{types.SourceTypeS3, "sources/app.zip", "zipped", ""},
		{types.SourceTypeS3, "sources/folder/", "foldered", ""},
		{types.SourceTypeS3, "sources/evil.zip", "", types.BuildPhaseTypeDownloadSource},
		{types.SourceTypeGithub, "file://" + repo, "cloned", ""},
	} {
		b := waitForBuild(t, c, aws.ToString(awstest.Call(t, c.StartBuild, &codebuild.StartBuildInput{ProjectName: aws.String("sources"),
			SourceTypeOverride: tt.typ, SourceLocationOverride: aws.String(tt.location)}).Build.Id))
		if tt.failPhase != "" {
			failed := ""
			for _, p := range b.Phases {
				if p.PhaseStatus == types.StatusTypeFailed || p.PhaseStatus == types.StatusTypeFault {
					failed = string(p.PhaseType)
				}
			}
			if b.BuildStatus == types.StatusTypeSucceeded || failed != string(tt.failPhase) {
				t.Errorf("%s: got %s failing in %q, want a failure in %s", tt.location, b.BuildStatus, failed, tt.failPhase)
			}
			continue
		}
		if b.BuildStatus != types.StatusTypeSucceeded {
			t.Errorf("%s: build %s, phases %v", tt.location, b.BuildStatus, phases(b))
			continue
		}
		if got := exported(b)["CONTENT"]; got != tt.content {
			t.Errorf("%s: hello.txt %q, want %q", tt.location, got, tt.content)
		}
		if tt.typ == types.SourceTypeGithub && exported(b)["RESOLVED"] != head {
			t.Errorf("%s: resolved %q, want %q", tt.location, exported(b)["RESOLVED"], head)
		}
	}
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// credentialsBuildspec fetches the build's credentials the way the SDKs
// do, from the container credentials endpoint.
const credentialsBuildspec = `version: 0.2
env:
  exported-variables:
    - CREDENTIALS
    - ENDPOINT
    - URI
phases:
  build:
    commands:
      - export ENDPOINT="$AWS_ENDPOINT_URL" URI="$AWS_CONTAINER_CREDENTIALS_FULL_URI$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
      - |
        if [ -n "$AWS_CONTAINER_CREDENTIALS_FULL_URI" ]; then
          export CREDENTIALS="$(wget -qO- --header "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI")"
        elif [ -n "$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" ]; then
          export CREDENTIALS="$(wget -qO- "http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" 2>&1)"
        fi
`

func TestBuildGetsTheServiceRolesCredentials(t *testing.T) {
	srv := awstest.Start(t, awstest.TaskEndpoint())
	cfg := srv.Config()
	c := codebuild.NewFromConfig(cfg)
	awstest.Call(t, iam.NewFromConfig(cfg).CreateRole, &iam.CreateRoleInput{RoleName: aws.String("codebuild-service"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	in := shellProject(t, "creds", credentialsBuildspec)
	awstest.Call(t, c.CreateProject, in)
	b := runProject(t, c, "creds")
	if b.BuildStatus != types.StatusTypeSucceeded {
		t.Fatalf("build %s, phases %v", b.BuildStatus, phases(b))
	}
	vars := exported(b)
	if vars["URI"] == "" {
		// Only one overcast on the machine can serve 169.254.170.2.
		t.Skip("the task endpoint did not start (is 169.254.170.2 taken?): the build got no endpoint")
	}
	var creds struct{ AccessKeyId, SecretAccessKey, Token, RoleArn string }
	if err := json.Unmarshal([]byte(vars["CREDENTIALS"]), &creds); err != nil {
		t.Fatalf("credentials %q: %v; variables %v", vars["CREDENTIALS"], err, vars)
	}
	if creds.AccessKeyId == "" || creds.Token == "" || creds.RoleArn != role {
		t.Errorf("credentials: got key %q, token %q, role %q; want the service role %s's", creds.AccessKeyId, creds.Token, creds.RoleArn, role)
	}
}

// TestSecondarySourcesAndArtifacts: a secondary source in
// CODEBUILD_SRC_DIR_<id>, and secondary artifacts, one zipped and one
// not, in the BUILD_ID namespace.
func TestSecondarySourcesAndArtifacts(t *testing.T) {
	srv := awstest.Start(t)
	cfg := srv.Config()
	c, s3c := codebuild.NewFromConfig(cfg), s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for _, b := range []string{"sources", "out"} {
		awstest.Call(t, s3c.CreateBucket, &s3.CreateBucketInput{Bucket: aws.String(b)})
	}
	awstest.Call(t, s3c.PutObject, &s3.PutObjectInput{Bucket: aws.String("sources"), Key: aws.String("lib/lib.txt"), Body: strings.NewReader("library")})
	buildspec := `version: 0.2
phases:
  build:
    commands:
      - mkdir -p web api
      - cp "$CODEBUILD_SRC_DIR_lib/lib.txt" web/index.txt
      - echo api > api/api.txt
artifacts:
  files: ['**/*']
  secondary-artifacts:
    web:
      base-directory: web
      files: ['**/*']
    api:
      base-directory: api
      files: ['**/*']
`
	in := shellProject(t, "multi", buildspec)
	in.SecondarySources = []types.ProjectSource{{Type: types.SourceTypeS3, Location: aws.String("sources/lib/"), SourceIdentifier: aws.String("lib")}}
	in.LogsConfig = &types.LogsConfig{S3Logs: &types.S3LogsConfig{Status: types.LogsConfigStatusTypeEnabled, Location: aws.String("out/logs")}}
	in.SecondaryArtifacts = []types.ProjectArtifacts{
		{Type: types.ArtifactsTypeS3, Location: aws.String("out"), ArtifactIdentifier: aws.String("web"), Name: aws.String("site"), NamespaceType: types.ArtifactNamespaceBuildId},
		{Type: types.ArtifactsTypeS3, Location: aws.String("out"), ArtifactIdentifier: aws.String("api"), Name: aws.String("api.zip"), Packaging: types.ArtifactPackagingZip},
	}
	awstest.Call(t, c.CreateProject, in)
	b := runProject(t, c, "multi")
	if b.BuildStatus != types.StatusTypeSucceeded {
		t.Fatalf("build %s, phases %v", b.BuildStatus, phases(b))
	}
	uuid := strings.TrimPrefix(aws.ToString(b.Id), "multi:")
	locations := map[string]string{}
	for _, a := range b.SecondaryArtifacts {
		locations[aws.ToString(a.ArtifactIdentifier)] = aws.ToString(a.Location)
	}
	want := map[string]string{"web": "arn:aws:s3:::out/" + uuid + "/site", "api": "arn:aws:s3:::out/api.zip"}
	if diff := cmp.Diff(want, locations); diff != "" {
		t.Errorf("secondary artifact locations (-want +got):\n%s", diff)
	}
	obj := awstest.Call(t, s3c.GetObject, &s3.GetObjectInput{Bucket: aws.String("out"), Key: aws.String(uuid + "/site/index.txt")})
	if body, _ := io.ReadAll(obj.Body); string(body) != "library" {
		t.Errorf("web/index.txt: got %q, want the secondary source's file", body)
	}
	awstest.Call(t, s3c.HeadObject, &s3.HeadObjectInput{Bucket: aws.String("out"), Key: aws.String("api.zip")})
	logObj := awstest.Call(t, s3c.GetObject, &s3.GetObjectInput{Bucket: aws.String("out"), Key: aws.String("logs/" + uuid + ".gz")})
	gz, err := gzip.NewReader(logObj.Body)
	if err != nil {
		t.Fatalf("the S3 log is not gzipped: %v", err)
	}
	if log, _ := io.ReadAll(gz); !strings.Contains(string(log), "Phase complete: BUILD State: SUCCEEDED") {
		t.Errorf("the S3 log lacks BUILD's end:\n%s", log)
	}
}

// TestRestartLosesTheRunningBuild: a build running when overcast stops
// ends FAULT after the restart, as one whose host was lost, with the
// reason in the phase it was in.
func TestRestartLosesTheRunningBuild(t *testing.T) {
	srv := awstest.Start(t)
	c := codebuild.NewFromConfig(srv.Config())
	in := shellProject(t, "slow", "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 600\n")
	awstest.Call(t, c.CreateProject, in)
	id := aws.ToString(awstest.Call(t, c.StartBuild, &codebuild.StartBuildInput{ProjectName: aws.String("slow")}).Build.Id)
	servicetest.WaitForEvery(t, "the build to run its command", 100*time.Millisecond, 2*time.Minute, func() bool {
		out, err := c.BatchGetBuilds(context.Background(), &codebuild.BatchGetBuildsInput{Ids: []string{id}})
		return err == nil && len(out.Builds) == 1 && aws.ToString(out.Builds[0].CurrentPhase) == "BUILD"
	})

	srv.Restart(t)
	c = codebuild.NewFromConfig(srv.Config())
	b := waitForBuild(t, c, id)
	if b.BuildStatus != types.StatusTypeFault {
		t.Fatalf("the build running at the restart: got %s, want FAULT; phases %v", b.BuildStatus, phases(b))
	}
	build := b.Phases[len(b.Phases)-2]
	if build.PhaseType != types.BuildPhaseTypeBuild || len(build.Contexts) != 1 {
		t.Errorf("the lost phase: got %s with contexts %+v, want BUILD with the reason", build.PhaseType, build.Contexts)
	}
}

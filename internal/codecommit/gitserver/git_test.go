package gitserver_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"overcast/internal/awstest"
)

// TestPushCloneFetchWithSignedPassword pushes, clones and fetches over
// HTTP with a credential helper's SigV4 password for an IAM user's key.
func TestPushCloneFetchWithSignedPassword(t *testing.T) {
	g := startGit(t)
	keyID, secret := g.iamUser(t, "alice")
	remote := g.signedURL("demo", keyID, secret)

	work := newWorkTree(t, map[string][]byte{"README.md": []byte("hello\n")})
	run(t, work, gitEnv(), "push", "-q", remote, "main")

	clone := filepath.Join(t.TempDir(), "clone")
	run(t, "", gitEnv(), "clone", "-q", remote, clone)
	if got, _ := os.ReadFile(filepath.Join(clone, "README.md")); string(got) != "hello\n" {
		t.Errorf("cloned README.md = %q, want %q", got, "hello\n")
	}

	second := commitFiles(t, work, map[string][]byte{"more.txt": []byte("more\n")}, "second")
	run(t, work, gitEnv(), "push", "-q", remote, "main")
	run(t, clone, gitEnv(), "fetch", "-q", remote, "main")
	if got := strings.TrimSpace(run(t, clone, gitEnv(), "rev-parse", "FETCH_HEAD")); got != second {
		t.Errorf("fetched %s, want %s", got, second)
	}

	branch := awstest.Call(t, g.codecommit.GetBranch, &codecommit.GetBranchInput{RepositoryName: aws.String("demo"),
		BranchName: aws.String("main")}).Branch
	if *branch.CommitId != second {
		t.Errorf("GetBranch main = %s, want the pushed %s", *branch.CommitId, second)
	}
}

// TestCredentialHelpers clones through git's credential helper running
// `aws codecommit credential-helper`, with both aws CLIs: from the
// reported clone URL, whose AWS-style host name the helper signs for as
// it is, and from the server's address with --ignore-host-check.
func TestCredentialHelpers(t *testing.T) {
	g := startGit(t)
	keyID, secret := g.iamUser(t, "alice")
	work := newWorkTree(t, map[string][]byte{"a.txt": []byte("a\n")})
	run(t, work, gitEnv(), "push", "-q", g.signedURL("demo", keyID, secret), "main")
	meta := awstest.Call(t, g.codecommit.GetRepository, &codecommit.GetRepositoryInput{RepositoryName: aws.String("demo")}).RepositoryMetadata
	if want := repoURL(g.awsHost(), "demo", "", ""); *meta.CloneUrlHttp != want {
		t.Errorf("CloneUrlHttp = %s, want %s", *meta.CloneUrlHttp, want)
	}

	tests := []struct {
		cli, flags, url string
	}{
		{"aws", "", *meta.CloneUrlHttp},
		{"aws", "--ignore-host-check", g.URL + "/v1/repos/demo"},
		{"/usr/bin/aws", "", *meta.CloneUrlHttp},
		{"/usr/bin/aws", "--ignore-host-check", g.URL + "/v1/repos/demo"},
	}
	for _, tt := range tests {
		t.Run(tt.cli+tt.flags, func(t *testing.T) {
			if _, err := exec.LookPath(tt.cli); err != nil {
				t.Skipf("no %s: %v", tt.cli, err)
			}
			env := gitEnv("AWS_ACCESS_KEY_ID="+keyID, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION=us-east-1",
				"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
			helper := fmt.Sprintf("!%s codecommit credential-helper %s $@", tt.cli, tt.flags)
			clone := filepath.Join(t.TempDir(), "clone")
			run(t, "", env, "-c", "credential.helper="+helper, "-c", "credential.UseHttpPath=true", "clone", "-q", tt.url, clone)
			if got, _ := os.ReadFile(filepath.Join(clone, "a.txt")); string(got) != "a\n" {
				t.Errorf("cloned a.txt = %q, want %q", got, "a\n")
			}
		})
	}
}

// TestServiceSpecificCredential pushes with an IAM Git credential, which
// stops working once deactivated.
func TestServiceSpecificCredential(t *testing.T) {
	g := startGit(t)
	awstest.Call(t, g.iam.CreateUser, &iam.CreateUserInput{UserName: aws.String("bob")})
	cred := awstest.Call(t, g.iam.CreateServiceSpecificCredential, &iam.CreateServiceSpecificCredentialInput{
		UserName: aws.String("bob"), ServiceName: aws.String("codecommit.amazonaws.com")}).ServiceSpecificCredential
	if want := "bob-at-000000000000"; *cred.ServiceUserName != want {
		t.Errorf("ServiceUserName = %s, want %s", *cred.ServiceUserName, want)
	}
	remote := repoURL("127.0.0.1:"+g.port, "demo", *cred.ServiceUserName, *cred.ServicePassword)
	work := newWorkTree(t, map[string][]byte{"a.txt": []byte("a\n")})
	run(t, work, gitEnv(), "push", "-q", remote, "main")

	awstest.Call(t, g.iam.UpdateServiceSpecificCredential, &iam.UpdateServiceSpecificCredentialInput{UserName: aws.String("bob"),
		ServiceSpecificCredentialId: cred.ServiceSpecificCredentialId, Status: iamtypes.StatusTypeInactive})
	out, err := tryGit(work, gitEnv(), "ls-remote", remote)
	if err == nil || !strings.Contains(out, "403") {
		t.Errorf("ls-remote with an inactive credential: got %v, %s; want git's 403", err, out)
	}
}

// TestRefusals: a wrong password is git's 403, no credentials a 401 that
// asks for Basic credentials, an unknown repository a 404.
func TestRefusals(t *testing.T) {
	g := startGit(t)
	keyID, _ := g.iamUser(t, "alice")
	out, err := tryGit("", gitEnv(), "ls-remote", g.signedURL("demo", keyID, "not the secret"))
	if err == nil || !strings.Contains(out, "The requested URL returned error: 403") {
		t.Errorf("ls-remote with a bad signature: got %v, %s; want git's 403", err, out)
	}

	resp, err := http.Get(g.URL + "/v1/repos/demo/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic realm=") {
		t.Errorf("no credentials: got %d %q, want 401 asking for Basic", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	out, err = tryGit("", gitEnv(), "ls-remote", g.signedURL("nothing", "test", "test"))
	if err == nil || !strings.Contains(out, "not found") {
		t.Errorf("ls-remote of an unknown repository: got %v, %s; want not found", err, out)
	}
}

// TestLargeAndForcePush pushes tens of megabytes, then rewrites history
// with a force push, which CodeCommit accepts; deleting the default
// branch is refused.
func TestLargeAndForcePush(t *testing.T) {
	g := startGit(t)
	remote := g.signedURL("demo", "test", "test")
	big := make([]byte, 40<<20)
	rand.Read(big)
	work := newWorkTree(t, map[string][]byte{"big.bin": big})
	run(t, work, gitEnv(), "push", "-q", remote, "main")
	clone := filepath.Join(t.TempDir(), "clone")
	run(t, "", gitEnv(), "clone", "-q", remote, clone)
	if got, _ := os.ReadFile(filepath.Join(clone, "big.bin")); len(got) != len(big) || string(got[:64]) != string(big[:64]) {
		t.Errorf("cloned big.bin has %d bytes, want the %d pushed", len(got), len(big))
	}

	run(t, work, gitEnv(), "commit", "-q", "--amend", "-m", "rewritten")
	rewritten := strings.TrimSpace(run(t, work, gitEnv(), "rev-parse", "HEAD"))
	if out, err := tryGit(work, gitEnv(), "push", remote, "main"); err == nil {
		t.Errorf("a non-fast-forward push without --force succeeded:\n%s", out)
	}
	run(t, work, gitEnv(), "push", "-q", "--force", remote, "main")
	branch := awstest.Call(t, g.codecommit.GetBranch, &codecommit.GetBranchInput{RepositoryName: aws.String("demo"),
		BranchName: aws.String("main")}).Branch
	if *branch.CommitId != rewritten {
		t.Errorf("main after the force push = %s, want %s", *branch.CommitId, rewritten)
	}

	out, err := tryGit(work, gitEnv(), "push", remote, ":main")
	if err == nil || !strings.Contains(out, "default branch") {
		t.Errorf("deleting the default branch: got %v, %s; want it refused", err, out)
	}
}

// TestSSH clones and pushes over SSH with a key uploaded to IAM, the key
// ID as the SSH user; another key is refused.
func TestSSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client:", err)
	}
	g := startGit(t)
	awstest.Call(t, g.iam.CreateUser, &iam.CreateUserInput{UserName: aws.String("dave")})
	keyPath, public := sshKey(t)
	key := awstest.Call(t, g.iam.UploadSSHPublicKey, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dave"),
		SSHPublicKeyBody: aws.String(public)}).SSHPublicKey
	meta := awstest.Call(t, g.codecommit.GetRepository, &codecommit.GetRepositoryInput{RepositoryName: aws.String("demo")}).RepositoryMetadata
	sshURL := strings.Replace(*meta.CloneUrlSsh, "ssh://", "ssh://"+*key.SSHPublicKeyId+"@", 1)
	sshEnv := func(key string) []string {
		return gitEnv("GIT_SSH_COMMAND=ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes " +
			"-o BatchMode=yes -o LogLevel=ERROR -i " + key)
	}

	work := newWorkTree(t, map[string][]byte{"a.txt": []byte("a\n")})
	run(t, work, sshEnv(keyPath), "push", "-q", sshURL, "main")
	clone := filepath.Join(t.TempDir(), "clone")
	run(t, "", sshEnv(keyPath), "clone", "-q", sshURL, clone)
	if got, _ := os.ReadFile(filepath.Join(clone, "a.txt")); string(got) != "a\n" {
		t.Errorf("cloned a.txt = %q, want %q", got, "a\n")
	}

	other, _ := sshKey(t)
	if out, err := tryGit("", sshEnv(other), "ls-remote", sshURL); err == nil {
		t.Errorf("ls-remote with a key not uploaded succeeded:\n%s", out)
	}
	awstest.Call(t, g.iam.UpdateSSHPublicKey, &iam.UpdateSSHPublicKeyInput{UserName: aws.String("dave"),
		SSHPublicKeyId: key.SSHPublicKeyId, Status: iamtypes.StatusTypeInactive})
	if out, err := tryGit("", sshEnv(keyPath), "ls-remote", sshURL); err == nil {
		t.Errorf("ls-remote with an inactive key succeeded:\n%s", out)
	}
	out, err := tryGit("", sshEnv(keyPath), "ls-remote", strings.Replace(sshURL, "/demo", "/nothing", 1))
	if err == nil {
		t.Errorf("ls-remote of an unknown repository succeeded:\n%s", out)
	}
}

// TestPushPublishesStateChanges: each reference a push changes is a
// "CodeCommit Repository State Change" event, reaching an EventBridge rule.
func TestPushPublishesStateChanges(t *testing.T) {
	g := startGit(t)
	eb := eventbridge.NewFromConfig(g.Config())
	logs := cloudwatchlogs.NewFromConfig(g.Config())
	group := "/events/pushes"
	awstest.Call(t, logs.CreateLogGroup, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group})
	awstest.Call(t, eb.PutRule, &eventbridge.PutRuleInput{Name: aws.String("pushes"),
		EventPattern: aws.String(`{"source":["aws.codecommit"],"detail-type":["CodeCommit Repository State Change"]}`)})
	awstest.Call(t, eb.PutTargets, &eventbridge.PutTargetsInput{Rule: aws.String("pushes"), Targets: []ebtypes.Target{{
		Id: aws.String("log"), Arn: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:" + group)}}})

	remote := g.signedURL("demo", "test", "test")
	work := newWorkTree(t, map[string][]byte{"a.txt": []byte("a\n")})
	first := strings.TrimSpace(run(t, work, gitEnv(), "rev-parse", "HEAD"))
	run(t, work, gitEnv(), "tag", "v1")
	run(t, work, gitEnv(), "push", "-q", remote, "main", "v1")

	var got []string
	awstest.WaitFor(t, "two state change events", func() bool {
		out, err := logs.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: &group})
		if err != nil {
			return false
		}
		got = awstest.Strings(out.Events, func(e logstypes.FilteredLogEvent) *string { return e.Message })
		return len(got) >= 2
	})
	type detail struct {
		Event, ReferenceType, ReferenceName, ReferenceFullName, CommitID, RepositoryName string
	}
	var details []detail
	for _, m := range got {
		var ev struct{ Detail map[string]string }
		if err := json.Unmarshal([]byte(m), &ev); err != nil {
			t.Fatal(err)
		}
		d := ev.Detail
		details = append(details, detail{d["event"], d["referenceType"], d["referenceName"], d["referenceFullName"], d["commitId"], d["repositoryName"]})
	}
	want := []detail{
		{"referenceCreated", "branch", "main", "refs/heads/main", first, "demo"},
		{"referenceCreated", "tag", "v1", "refs/tags/v1", first, "demo"},
	}
	// EventBridge promises no order between events, even of one push.
	byRef := cmpopts.SortSlices(func(a, b detail) bool { return a.ReferenceFullName < b.ReferenceFullName })
	if diff := cmp.Diff(want, details, byRef); diff != "" {
		t.Errorf("state change events (-want +got):\n%s", diff)
	}
}

// TestStrictRefusesUnknownKeys: under --strict a key nobody issued gets
// git's 403 however it signs, while the root keys --strict accepts work.
func TestStrictRefusesUnknownKeys(t *testing.T) {
	g := startGit(t, awstest.Strict())
	out, err := tryGit("", gitEnv(), "ls-remote", g.signedURL("demo", "AKIAUNKNOWNUNKNOWN00", "whatever"))
	if err == nil || !strings.Contains(out, "The requested URL returned error: 403") {
		t.Errorf("ls-remote with an unknown key under --strict: got %v, %s; want git's 403", err, out)
	}
	run(t, "", gitEnv(), "ls-remote", g.signedURL("demo", "test", "test"))
}

// TestSessionCredentials: temporary credentials sign as the helper signs
// them, with the session token after a % in the user name.
func TestSessionCredentials(t *testing.T) {
	g := startGit(t)
	keyID, secret := g.iamUser(t, "alice")
	temp := awstest.Call(t, sts.NewFromConfig(g.ConfigWith(keyID, secret, "")).GetSessionToken, &sts.GetSessionTokenInput{}).Credentials
	user := *temp.AccessKeyId + "%" + *temp.SessionToken
	run(t, "", gitEnv(), "ls-remote", g.signedURL("demo", user, *temp.SecretAccessKey))

	out, err := tryGit("", gitEnv(), "ls-remote", g.signedURL("demo", *temp.AccessKeyId+"%wrong-token", *temp.SecretAccessKey))
	if err == nil || !strings.Contains(out, "403") {
		t.Errorf("ls-remote with another session token: got %v, %s; want git's 403", err, out)
	}
}

// TestEnforceGitPullAndPush: under --enforce-iam git's fetches need
// codecommit:GitPull and its pushes codecommit:GitPush on the repository,
// as on AWS: a user allowed only to pull clones, and its push is refused
// with the reason; the account root may do both.
func TestEnforceGitPullAndPush(t *testing.T) {
	g := startGit(t, awstest.EnforceIAM())
	work := newWorkTree(t, map[string][]byte{"a.txt": []byte("a\n")})
	run(t, work, gitEnv(), "push", "-q", g.signedURL("demo", "test", "test"), "main")

	keyID, secret := g.iamUser(t, "reader")
	awstest.Call(t, g.iam.PutUserPolicy, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("pull"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"codecommit:GitPull","Resource":"arn:aws:codecommit:us-east-1:000000000000:demo"}]}`)})
	clone := t.TempDir()
	run(t, clone, gitEnv(), "clone", "-q", g.signedURL("demo", keyID, secret), ".")

	commitFiles(t, clone, map[string][]byte{"b.txt": []byte("b\n")}, "second")
	out, err := tryGit(clone, gitEnv(), "push", g.signedURL("demo", keyID, secret), "HEAD:main")
	if err == nil || !strings.Contains(out, "403") {
		t.Errorf("push without codecommit:GitPush: got %v, %s; want git's 403", err, out)
	}
	unknownKey, unknownSecret := g.iamUser(t, "nobody")
	out, err = tryGit(t.TempDir(), gitEnv(), "ls-remote", g.signedURL("demo", unknownKey, unknownSecret))
	if err == nil || !strings.Contains(out, "403") {
		t.Errorf("ls-remote without codecommit:GitPull: got %v, %s; want git's 403", err, out)
	}
}

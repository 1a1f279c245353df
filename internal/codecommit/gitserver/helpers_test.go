package gitserver_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/crypto/ssh"

	"overcast/internal/awstest"
	"overcast/internal/sigv4"
)

// gitServer is an overcast with one empty CodeCommit repository, "demo".
type gitServer struct {
	*awstest.Server
	codecommit *codecommit.Client
	iam        *iam.Client
	port       string
}

func startGit(t *testing.T, opts ...awstest.Option) *gitServer {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git binary:", err)
	}
	srv := awstest.Start(t, opts...)
	g := &gitServer{Server: srv, codecommit: codecommit.NewFromConfig(srv.Config()), iam: iam.NewFromConfig(srv.Config())}
	u, _ := url.Parse(srv.URL)
	g.port = u.Port()
	awstest.Call(t, g.codecommit.CreateRepository, &codecommit.CreateRepositoryInput{RepositoryName: aws.String("demo")})
	return g
}

// awsHost is the repository host in the form the credential helpers know
// (git-codecommit.<region>.amazonaws.com) under .localhost, which git's
// HTTP client resolves to loopback.
func (g *gitServer) awsHost() string {
	return "git-codecommit.us-east-1.amazonaws.com.localhost:" + g.port
}

// repoURL is the repository's URL on host, with user and password when
// user is not "".
func repoURL(host, name, user, password string) string {
	u := url.URL{Scheme: "http", Host: host, Path: "/v1/repos/" + name}
	if user != "" {
		u.User = url.UserPassword(user, password)
	}
	return u.String()
}

// signedURL is the repository's URL carrying a credential helper's
// password, signed here for speed.
func (g *gitServer) signedURL(name, keyID, secret string) string {
	host := "git-codecommit.us-east-1.amazonaws.com.localhost"
	pw := sigv4.GitPassword(secret, "us-east-1", host, "/v1/repos/"+name, time.Now())
	return repoURL(g.awsHost(), name, keyID, pw)
}

// iamUser creates a user with an access key and returns the key.
func (g *gitServer) iamUser(t *testing.T, name string) (keyID, secret string) {
	t.Helper()
	awstest.Call(t, g.iam.CreateUser, &iam.CreateUserInput{UserName: &name})
	k := awstest.Call(t, g.iam.CreateAccessKey, &iam.CreateAccessKeyInput{UserName: &name}).AccessKey
	return *k.AccessKeyId, *k.SecretAccessKey
}

// gitEnv is the environment git runs with in tests: no user or system
// configuration, no prompts.
func gitEnv(extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com"}
	return append(env, extra...)
}

// run runs git in dir and returns its combined output, failing the test
// when it fails.
func run(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	out, err := tryGit(dir, env, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func tryGit(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// newWorkTree makes a repository with one commit of file name holding
// content, on branch main.
func newWorkTree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	run(t, dir, gitEnv(), "init", "-q", "-b", "main")
	commitFiles(t, dir, files, "first")
	return dir
}

func commitFiles(t *testing.T, dir string, files map[string][]byte, message string) string {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, dir, gitEnv(), "add", "-A")
	run(t, dir, gitEnv(), "commit", "-q", "-m", message)
	return strings.TrimSpace(run(t, dir, gitEnv(), "rev-parse", "HEAD"))
}

// sshKey generates an ed25519 key, writes its private half for ssh -i and
// returns the path and the public half in OpenSSH form.
func sshKey(t *testing.T) (path, public string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return path, string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(sp)))
}

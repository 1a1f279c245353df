package runner_test

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/codebuild/runner"
	"overcast/internal/docker/dockertest"
)

var runID = dockertest.RandomHex(4)

// shellImage is the image the tests' builds run in: the host's static
// busybox, a POSIX shell like the images builds run in.
var shellImage = dockertest.NewShellImage("codebuild-shell", runID)

func TestMain(m *testing.M) { shellImage.Main(m) }

// hooks is a Hooks for tests: sources from a map, parameters from a map,
// artifacts kept where the runner packed them.
type hooks struct {
	files      map[string]string // primary source files
	params     map[string]string
	mu         sync.Mutex
	artifacts  []runner.Artifact
	reports    []runner.ReportFiles
	artifactFn func(a runner.Artifact) error
}

func (h *hooks) DownloadSource(ctx context.Context, dirs map[string]string) (runner.Sources, error) {
	for name, content := range h.files {
		p := filepath.Join(dirs[""], name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if strings.HasPrefix(content, "->") {
			if err := os.Symlink(strings.TrimPrefix(content, "->"), p); err != nil {
				return runner.Sources{}, err
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return runner.Sources{}, err
		}
	}
	return runner.Sources{ResolvedVersions: map[string]string{"": "0123abcd"}}, nil
}

func (h *hooks) Parameter(ctx context.Context, name string) (string, error) {
	if v, ok := h.params[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("parameter does not exist: %s", name)
}

func (h *hooks) Secret(ctx context.Context, ref runner.SecretRef) (string, error) {
	return "", errors.New("ResourceNotFoundException: Secrets Manager can't find the specified secret.")
}

func (h *hooks) UploadArtifact(ctx context.Context, a runner.Artifact) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.artifacts = append(h.artifacts, a)
	return "local:" + a.Name, nil
}

func (h *hooks) RestoreCache(ctx context.Context, key, dir string) error { return nil }
func (h *hooks) SaveCache(ctx context.Context, key, dir string) error    { return nil }

func (h *hooks) Reports(ctx context.Context, r []runner.ReportFiles) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reports = append(h.reports, r...)
	return nil
}

// observer records the phases and the log, and can call back on a log line.
type observer struct {
	mu     sync.Mutex
	phases []runner.Phase
	log    strings.Builder
	onLine func(string)
}

func (o *observer) Phase(p runner.Phase) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if p.Status != "" {
		o.phases = append(o.phases, p)
	}
}

func (o *observer) Log(p []byte) {
	o.mu.Lock()
	o.log.Write(p)
	o.mu.Unlock()
	if o.onLine != nil {
		o.onLine(string(p))
	}
}

// phaseSummary is "TYPE STATUS" per ended phase.
func (o *observer) phaseSummary() []string {
	var out []string
	for _, p := range o.phases {
		s := p.Type + " " + p.Status
		for _, c := range p.Contexts {
			s += " " + c.StatusCode + ": " + c.Message
		}
		out = append(out, s)
	}
	return out
}

type run struct {
	result runner.Result
	obs    *observer
	hooks  *hooks
	build  runner.Build
}

func (r run) logHas(t *testing.T, want string) {
	t.Helper()
	if !strings.Contains(r.obs.log.String(), want) {
		t.Errorf("the log lacks %q:\n%s", want, r.obs.log.String())
	}
}

// wantStatus fails the test (fatally when fatal) unless the build ended
// with status.
func (r run) wantStatus(t *testing.T, status string, fatal bool) {
	t.Helper()
	if r.result.Status == status {
		return
	}
	report := t.Errorf
	if fatal {
		report = t.Fatalf
	}
	report("got status %s, want %s; phases %q; log:\n%s", r.result.Status, status, r.obs.phaseSummary(), r.obs.log.String())
}

// wantPhases fails the test unless the ended phases are want ("TYPE STATUS
// [CODE: message]").
func (r run) wantPhases(t *testing.T, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, r.obs.phaseSummary()); diff != "" {
		t.Errorf("phases (-want +got):\n%s\nlog:\n%s", diff, r.obs.log.String())
	}
}

// runBuild runs spec over files in the busybox image; adjust changes the
// build, hooks or observer first.
func runBuild(t *testing.T, ctx context.Context, spec string, files map[string]string, adjust func(*runner.Build, *hooks, *observer)) run {
	t.Helper()
	t.Parallel()
	return runBuildNow(t, ctx, spec, files, adjust)
}

// runBuildNow is runBuild for builds that must run one after the other.
func runBuildNow(t *testing.T, ctx context.Context, spec string, files map[string]string, adjust func(*runner.Build, *hooks, *observer)) run {
	t.Helper()
	img := shellImage.Get(t)
	e := dockertest.Engine(t)
	labels := dockertest.Labels(t, e, runID)
	h := &hooks{files: files, params: map[string]string{}}
	o := &observer{}
	b := runner.Build{
		ID: "proj:" + runID, Project: "proj", Number: 1, Image: img, Buildspec: spec,
		Labels: labels, WorkDir: t.TempDir(), Timeout: 2 * time.Minute,
		Artifacts: []runner.ArtifactTarget{{Type: "S3", Packaging: "ZIP", Name: "out.zip"}},
	}
	if adjust != nil {
		adjust(&b, h, o)
	}
	res, err := runner.New(e, "codebuild-test").Run(ctx, b, h, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return run{result: res, obs: o, hooks: h, build: b}
}

func TestShellModelCarriesEnvironmentAndDirectory(t *testing.T) {
	r := runBuild(t, context.Background(), `version: 0.2
env:
  variables:
    GREETING: hello
  parameter-store:
    TOKEN: /app/token
  exported-variables:
    - IMAGE_TAG
    - MULTI
phases:
  build:
    commands:
      - mkdir -p sub/dir && cd sub/dir
      - IMAGE_TAG=v1-$(echo ${CODEBUILD_RESOLVED_SOURCE_VERSION} | cut -c1-4)
      - export MULTI="a
        b"
      - f() { echo fn; }
      - echo "pwd=$(pwd | sed "s|$CODEBUILD_SRC_DIR|SRC|") tag=$IMAGE_TAG greeting=$GREETING token=$TOKEN succeeding=$CODEBUILD_BUILD_SUCCEEDING"
      - type f || echo "no function"
      - sleep 60 &
      - echo after background
      - echo 0123456789abcdef0123456789abcdef 0
      - echo "token=${tok:-hidden}"
      - head -c 3000000 /dev/zero | tr '\0' x; echo; echo after long line
`, nil, func(b *runner.Build, h *hooks, o *observer) {
		h.params["/app/token"] = "s3cr3t"
		b.Env = []runner.EnvVar{{Name: "GREETING", Value: "hi from the project"}}
	})
	r.wantStatus(t, runner.StatusSucceeded, true)
	// The parameter's value is masked in the log, as CodeBuild masks it.
	r.logHas(t, "\npwd=SRC/sub/dir tag=v1-0123 greeting=hi from the project token=*** succeeding=1\n")
	r.logHas(t, "\nno function\n")
	r.logHas(t, "\nafter background\n")
	r.logHas(t, "\n0123456789abcdef0123456789abcdef 0\n") // output shaped like the agent's end line
	r.logHas(t, "x\nafter long line\n")                   // a 3 MB line, logged in pieces
	r.logHas(t, "\ntoken=hidden\n")                       // the agent's end token never reaches a command
	want := []runner.EnvVar{{Name: "IMAGE_TAG", Value: "v1-0123", Type: "PLAINTEXT"}, {Name: "MULTI", Value: "a b", Type: "PLAINTEXT"}}
	if diff := cmp.Diff(want, r.result.ExportedVariables); diff != "" {
		t.Errorf("exported variables (-want +got):\n%s", diff)
	}
	if r.result.ResolvedSourceVersion != "0123abcd" {
		t.Errorf("got resolved source version %q, want 0123abcd", r.result.ResolvedSourceVersion)
	}
}

func TestFailedBuildRunsPostBuildAndUpload(t *testing.T) {
	r := runBuild(t, context.Background(), `version: 0.2
phases:
  install:
    commands:
      - echo installing
  build:
    commands:
      - echo building > out.txt
      - exit 3
      - echo never
    finally:
      - echo "finally ran succeeding=$CODEBUILD_BUILD_SUCCEEDING"
  post_build:
    commands:
      - echo "post_build succeeding=$CODEBUILD_BUILD_SUCCEEDING"
artifacts:
  files:
    - out.txt
`, nil, nil)
	r.wantPhases(t,
		"PROVISIONING SUCCEEDED",
		"DOWNLOAD_SOURCE SUCCEEDED",
		"INSTALL SUCCEEDED",
		"PRE_BUILD SUCCEEDED",
		"BUILD FAILED COMMAND_EXECUTION_ERROR: Error while executing command: exit 3. Reason: exit status 3",
		"POST_BUILD SUCCEEDED",
		"UPLOAD_ARTIFACTS SUCCEEDED",
		"FINALIZING SUCCEEDED",
	)
	r.wantStatus(t, runner.StatusFailed, false)
	r.logHas(t, "Running command exit 3\n")
	r.logHas(t, "Command did not exit successfully exit 3 exit status 3\n")
	r.logHas(t, "Phase complete: BUILD State: FAILED\n")
	r.logHas(t, "Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: exit 3. Reason: exit status 3\n")
	r.logHas(t, "\nfinally ran succeeding=0\n")
	r.logHas(t, "\npost_build succeeding=0\n")
	if strings.Contains(r.obs.log.String(), "\nnever\n") {
		t.Errorf("a command after the failed one ran")
	}
	if len(r.hooks.artifacts) != 1 {
		t.Errorf("got %d artifacts uploaded, want 1", len(r.hooks.artifacts))
	}
}

func TestFailedInstallSkipsToFinalizing(t *testing.T) {
	r := runBuild(t, context.Background(), `version: 0.2
phases:
  install:
    commands:
      - "false"
  build:
    commands:
      - echo never
`, nil, nil)
	r.wantPhases(t,
		"PROVISIONING SUCCEEDED",
		"DOWNLOAD_SOURCE SUCCEEDED",
		"INSTALL FAILED COMMAND_EXECUTION_ERROR: Error while executing command: false. Reason: exit status 1",
		"FINALIZING SUCCEEDED",
	)
}

func TestOnFailureContinueAndRetry(t *testing.T) {
	r := runBuild(t, context.Background(), `version: 0.2
phases:
  install:
    on-failure: CONTINUE
    commands:
      - "false"
  pre_build:
    on-failure: RETRY-2-exit status 4
    commands:
      - n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count
      - '[ "$(cat count)" -ge 3 ] || exit 4'
  build:
    commands:
      - echo "attempts=$(cat count) succeeding=$CODEBUILD_BUILD_SUCCEEDING"
`, nil, func(b *runner.Build, h *hooks, o *observer) { b.Artifacts = nil })
	r.wantPhases(t,
		"PROVISIONING SUCCEEDED",
		"DOWNLOAD_SOURCE SUCCEEDED",
		"INSTALL FAILED COMMAND_EXECUTION_ERROR: Error while executing command: false. Reason: exit status 1",
		"PRE_BUILD SUCCEEDED",
		"BUILD SUCCEEDED",
		"POST_BUILD SUCCEEDED",
		"UPLOAD_ARTIFACTS SUCCEEDED",
		"FINALIZING SUCCEEDED",
	)
	r.logHas(t, "\nattempts=3 succeeding=0\n")
	r.wantStatus(t, runner.StatusFailed, false)
}

func TestTimeoutAndStop(t *testing.T) {
	// The exported variable must not make FINALIZING wait for the
	// abandoned sleep.
	const spec = "version: 0.2\nenv:\n  exported-variables: [X]\nphases:\n  build:\n    commands:\n      - echo started\n      - sleep 300\n"
	t.Run("timeout", func(t *testing.T) {
		r := runBuild(t, context.Background(), spec, nil, func(b *runner.Build, h *hooks, o *observer) {
			b.Timeout = 3 * time.Second
		})
		r.wantStatus(t, runner.StatusTimedOut, false)
	})
	t.Run("stop", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r := runBuild(t, ctx, spec, nil, func(b *runner.Build, h *hooks, o *observer) {
			o.onLine = func(line string) {
				if strings.Contains(line, "Running command sleep 300") {
					cancel()
				}
			}
		})
		want := []string{"BUILD STOPPED BUILD_STOPPED: Build was stopped. ", "FINALIZING SUCCEEDED"}
		if got := r.obs.phaseSummary(); len(got) < 2 || !slices.Equal(got[len(got)-2:], want) {
			t.Errorf("got phases %q, want them to end with %q", got, want)
		}
		r.wantStatus(t, runner.StatusStopped, false)
	})
}

func TestArtifactsZip(t *testing.T) {
	r := runBuild(t, context.Background(), `version: 0.2
phases:
  build:
    commands:
      - mkdir -p out/a/b out/c && echo one > out/a/b/one.txt && echo two > out/c/two.txt && echo tmp > out/c/x.tmp
artifacts:
  base-directory: out
  discard-paths: yes
  files:
    - '**/*'
  exclude-paths:
    - '**/*.tmp'
  name: app-$CODEBUILD_BUILD_NUMBER.zip
  secondary-artifacts:
    docs:
      files: [c/two.txt]
      base-directory: out
`, map[string]string{"README": "readme"}, func(b *runner.Build, h *hooks, o *observer) {
		b.Artifacts = []runner.ArtifactTarget{
			{Type: "S3", Packaging: "ZIP", Name: "default", OverrideArtifactName: true},
			{Identifier: "docs", Type: "S3", Packaging: "NONE", Name: "docs"},
		}
	})
	r.wantStatus(t, runner.StatusSucceeded, true)
	if len(r.hooks.artifacts) != 2 {
		t.Fatalf("got %d artifacts, want 2", len(r.hooks.artifacts))
	}
	primary := r.hooks.artifacts[0]
	if primary.Name != "app-1.zip" {
		t.Errorf("got artifact name %q, want app-1.zip", primary.Name)
	}
	zr, err := zip.OpenReader(primary.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if diff := cmp.Diff([]string{"one.txt", "two.txt"}, names); diff != "" {
		t.Errorf("zip entries (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(r.hooks.artifacts[1].Path, "c", "two.txt")); err != nil {
		t.Errorf("the NONE-packaged secondary artifact lacks c/two.txt: %v", err)
	}
	if r.result.ArtifactLocations["docs"] != "local:docs" {
		t.Errorf("got locations %v", r.result.ArtifactLocations)
	}
}

func TestArtifactPathsEscapingAreRefused(t *testing.T) {
	tests := []struct {
		name, artifacts string
		files           map[string]string
	}{
		{"dot-dot file", "  files: ['../*']\n", nil},
		{"dot-dot base", "  base-directory: ../..\n  files: ['**/*']\n", nil},
		{"symlink out", "  files: ['**/*']\n", map[string]string{"passwd": "->/etc/passwd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBuild(t, context.Background(), "version: 0.2\nphases:\n  build:\n    commands: [echo hi]\nartifacts:\n"+tt.artifacts, tt.files, nil)
			got := r.obs.phaseSummary()
			if !slices.ContainsFunc(got, func(s string) bool {
				return strings.HasPrefix(s, "UPLOAD_ARTIFACTS FAILED CLIENT_ERROR: ") && strings.Contains(s, "escapes its directory")
			}) {
				t.Errorf("got phases %q, want UPLOAD_ARTIFACTS FAILED with CLIENT_ERROR ... escapes its directory", got)
			}
			if len(r.hooks.artifacts) != 0 {
				t.Errorf("an escaping artifact was uploaded")
			}
		})
	}
}

func TestMalformedBuildspecFailsDownloadSource(t *testing.T) {
	tests := []struct {
		name, spec string
		files      map[string]string
		want       string
	}{
		{"colon", "version: 0.2\n\nphases:\n  build:\n    commands:\n     - echo \"Hello: world\"\n", nil,
			"DOWNLOAD_SOURCE FAILED YAML_FILE_ERROR: Expected Commands[0] to be of string type: found subkeys instead at line 6, value of the key tag on line 5 might be empty"},
		{"missing file", "", nil, "DOWNLOAD_SOURCE FAILED YAML_FILE_ERROR: YAML file does not exist"},
		{"parameter", "version: 0.2\nenv:\n  parameter-store:\n    X: /missing\n", nil,
			"DOWNLOAD_SOURCE FAILED Decrypted Variables Error: parameter does not exist: /missing"},
		{"secret", "version: 0.2\nenv:\n  secrets-manager:\n    X: prod/db:password\n", nil,
			"DOWNLOAD_SOURCE FAILED Secrets Manager Error: ResourceNotFoundException: Secrets Manager can't find the specified secret."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBuild(t, context.Background(), tt.spec, tt.files, nil)
			r.wantPhases(t, "PROVISIONING SUCCEEDED", tt.want, "FINALIZING SUCCEEDED")
			r.wantStatus(t, runner.StatusFailed, false)
		})
	}
}

func TestRunAs(t *testing.T) {
	r := runBuild(t, context.Background(), `version: 0.2
run-as: builder
phases:
  install:
    run-as: root
    commands:
      - echo "install uid=$(id -u)"
  build:
    commands:
      - CARRIED=yes
      - echo "build uid=$(id -u) carried=$CARRIED"
`, nil, func(b *runner.Build, h *hooks, o *observer) { b.Artifacts = nil })
	r.wantStatus(t, runner.StatusSucceeded, true)
	r.logHas(t, "\ninstall uid=0\n")
	r.logHas(t, "\nbuild uid=1000 carried=yes\n")
}

func TestLocalCustomCacheCarriesPathsToTheNextBuild(t *testing.T) {
	cacheDir := t.TempDir()
	const spec = `version: 0.2
phases:
  build:
    commands:
      - echo "cached=$(cat /root/.deps/lib.txt 2>/dev/null || echo none) vendored=$(cat vendor/v.txt 2>/dev/null || echo none)"
      - mkdir -p /root/.deps vendor && echo dep1 > /root/.deps/lib.txt && echo v1 > vendor/v.txt
cache:
  paths:
    - /root/.deps/**/*
    - vendor/**/*
`
	useCache := func(b *runner.Build, h *hooks, o *observer) {
		b.Artifacts = nil
		b.Cache = runner.Cache{Type: "LOCAL", Modes: []string{"LOCAL_CUSTOM_CACHE"}, LocalDir: cacheDir}
	}
	t.Parallel()
	cold := runBuildNow(t, context.Background(), spec, nil, useCache)
	cold.wantStatus(t, runner.StatusSucceeded, true)
	cold.logHas(t, "\ncached=none vendored=none\n")
	warm := runBuildNow(t, context.Background(), spec, nil, useCache)
	warm.wantStatus(t, runner.StatusSucceeded, true)
	warm.logHas(t, "\ncached=dep1 vendored=v1\n")
}

func TestReportsAndSecondarySources(t *testing.T) {
	r := runBuild(t, context.Background(), `version: 0.2
phases:
  build:
    commands:
      - echo "lib=$CODEBUILD_SRC_DIR_lib"
      - test -d "$CODEBUILD_SRC_DIR_lib"
      - mkdir -p reports && echo '<testsuite/>' > reports/unit.xml && echo x > reports/other.txt
reports:
  unit-tests:
    base-directory: reports
    files: ['*.xml']
`, nil, func(b *runner.Build, h *hooks, o *observer) {
		b.Artifacts = nil
		b.SecondarySources = []string{"lib"}
	})
	r.wantStatus(t, runner.StatusSucceeded, true)
	if len(r.hooks.reports) != 1 || r.hooks.reports[0].Group != "unit-tests" || r.hooks.reports[0].FileFormat != "JUNITXML" ||
		len(r.hooks.reports[0].Files) != 1 || filepath.Base(r.hooks.reports[0].Files[0]) != "unit.xml" {
		t.Errorf("got reports %+v, want unit-tests JUNITXML with unit.xml", r.hooks.reports)
	}
	if !strings.Contains(r.obs.log.String(), "\nlib=/codebuild/output/src") {
		t.Errorf("CODEBUILD_SRC_DIR_lib is not under /codebuild/output:\n%s", r.obs.log.String())
	}
}

func TestVersion01RunsEachCommandInAFreshShell(t *testing.T) {
	r := runBuild(t, context.Background(), `version: 0.1
phases:
  build:
    commands:
      - mkdir sub && cd sub && X=set
      - echo "dir=$(basename $(pwd)) x=${X:-unset}"
`, nil, func(b *runner.Build, h *hooks, o *observer) { b.Artifacts = nil })
	r.wantStatus(t, runner.StatusSucceeded, true)
	r.logHas(t, "\ndir=src x=unset\n")
}

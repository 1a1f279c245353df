package buildspec

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const full = `version: 0.2
run-as: builder
env:
  shell: bash
  variables:
    JAVA_HOME: /usr/lib/jvm
    EMPTY:
  parameter-store:
    TOKEN: /app/token
  secrets-manager:
    DB_PASS: prod/db:password
  exported-variables:
    - IMAGE_TAG
  git-credential-helper: yes
proxy:
  upload-artifacts: yes
  logs: no
batch:
  fast-fail: true
  build-graph:
    - identifier: a
      env:
        image: img
        privileged-mode: true
        variables:
          X: "1"
    - identifier: b
      depend-on:
        - a
      ignore-failure: true
  build-matrix:
    static:
      ignore-failure: false
    dynamic:
      buildspec:
        - one.yml
      env:
        image: [i1, i2]
        variables:
          V: [a, b]
  build-fanout:
    parallelism: 4
phases:
  install:
    runtime-versions:
      golang: 1.22
    commands:
      - echo install
  build:
    run-as: root
    on-failure: RETRY-2-timeout.*
    commands:
      - "echo a: b"
      - make
    finally:
      - echo done
  post_build:
    on-failure: CONTINUE
    commands: echo single
reports:
  unit:
    files:
      - '**/*.xml'
    base-directory: reports
    file-format: CoberturaXml
artifacts:
  files:
    - '**/*'
  name: app-$(date +%s)
  discard-paths: yes
  base-directory: out
  exclude-paths: ['*.tmp']
  enable-symlinks: yes
  s3-prefix: builds
  secondary-artifacts:
    docs:
      files: doc/*
cache:
  paths:
    - /root/.m2/**/*
  key: deps-$(cat lock)
  fallback-keys: [deps-]
  action: restore
`

func TestParseFull(t *testing.T) {
	s, err := Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	want := &Spec{
		Version: "0.2",
		RunAs:   "builder",
		Env: Env{
			Shell:               "bash",
			Variables:           []Var{{"JAVA_HOME", "/usr/lib/jvm"}, {"EMPTY", ""}},
			ParameterStore:      []Var{{"TOKEN", "/app/token"}},
			SecretsManager:      []Var{{"DB_PASS", "prod/db:password"}},
			ExportedVariables:   []string{"IMAGE_TAG"},
			GitCredentialHelper: true,
		},
		Proxy: Proxy{UploadArtifacts: true},
		Batch: &Batch{
			FastFail: true,
			BuildGraph: []BatchTask{
				{Identifier: "a", Env: BatchEnv{Image: "img", PrivilegedMode: true, Variables: []Var{{"X", "1"}}}},
				{Identifier: "b", DependOn: []string{"a"}, IgnoreFailure: true},
			},
			BuildMatrix: &BuildMatrix{Dynamic: MatrixDimensions{
				Buildspec: []string{"one.yml"},
				Image:     []string{"i1", "i2"},
				Variables: []MatrixVar{{"V", []string{"a", "b"}}},
			}},
			BuildFanout: &BuildFanout{Parallelism: 4},
		},
		Phases: map[string]*Phase{
			Install: {Name: Install, OnFailure: OnFailure{Action: Abort},
				RuntimeVersions: []Var{{"golang", "1.22"}},
				Commands:        []Command{{"echo install", 48}}},
			Build: {Name: Build, RunAs: "root", OnFailure: OnFailure{Action: Retry, Retries: 2},
				Commands: []Command{{"echo a: b", 53}, {"make", 54}},
				Finally:  []Command{{"echo done", 56}}},
			PostBuild: {Name: PostBuild, OnFailure: OnFailure{Action: Continue},
				Commands: []Command{{"echo single", 59}}},
		},
		Reports: []Report{{Group: "unit", Files: []string{"**/*.xml"}, BaseDirectory: "reports", FileFormat: "COBERTURAXML"}},
		Artifacts: &Artifacts{
			Files: []string{"**/*"}, Name: "app-$(date +%s)", DiscardPaths: true, BaseDirectory: "out",
			ExcludePaths: []string{"*.tmp"}, EnableSymlinks: true, S3Prefix: "builds",
			Secondary: []*Artifacts{{Identifier: "docs", Files: []string{"doc/*"}}},
		},
		Cache: &Cache{Paths: []string{"/root/.m2/**/*"}, Key: "deps-$(cat lock)", FallbackKeys: []string{"deps-"}, Action: "restore"},
	}
	if diff := cmp.Diff(want, s, cmpopts.IgnoreFields(OnFailure{}, "Pattern")); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
	if re := s.Phases[Build].OnFailure.Pattern; re == nil || !re.MatchString("timeout after 3s") {
		t.Errorf("got on-failure pattern %v, want one matching %q", re, "timeout after 3s")
	}
}

func TestParseOnFailure(t *testing.T) {
	tests := []struct {
		value   string
		want    OnFailure
		pattern string
	}{
		{"ABORT", OnFailure{Action: Abort}, ""},
		{"CONTINUE", OnFailure{Action: Continue}, ""},
		{"RETRY", OnFailure{Action: Retry, Retries: 3}, ""},
		{"RETRY-5", OnFailure{Action: Retry, Retries: 5}, ""},
		{"RETRY-0", OnFailure{Action: Retry, Retries: 0}, ""},
		{"RETRY-flaky", OnFailure{Action: Retry, Retries: 3}, "flaky"},
		{"RETRY-2-net.*down", OnFailure{Action: Retry, Retries: 2}, "net.*down"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			s, err := Parse([]byte("version: 0.2\nphases:\n  build:\n    on-failure: " + tt.value + "\n    commands: [x]\n"))
			if err != nil {
				t.Fatal(err)
			}
			got := s.Phases[Build].OnFailure
			pattern := ""
			if got.Pattern != nil {
				pattern = got.Pattern.String()
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(OnFailure{}, "Pattern")); diff != "" || pattern != tt.pattern {
				t.Errorf("got %+v pattern %q, want %+v pattern %q", got, pattern, tt.want, tt.pattern)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, spec, want string
	}{
		{"colon in command", "version: 0.2\n\nphases:\n  build:\n    commands:\n     - echo \"Hello: world\"\n",
			"Expected Commands[0] to be of string type: found subkeys instead at line 6, value of the key tag on line 5 might be empty"},
		{"tab", "version: 0.2\nphases:\n\tbuild:\n", "found character that cannot start any token at line 3"},
		{"unclosed flow", "version: 0.2\nphases:\n  build:\n    commands: [a, b\n", "did not find expected ',' or ']' at line 3"},
		{"no version", "phases:\n  build:\n    commands: [a]\n", "version key is missing"},
		{"bad version", "version: 0.3\n", "invalid buildspec version: 0.3"},
		{"empty", "", "YAML file is empty"},
		{"not a map", "- a\n", "Expected buildspec to be of map type: found sequence instead at line 1"},
		{"unknown phase", "version: 0.2\nphases:\n  deploy:\n    commands: [a]\n", "unknown phase deploy at line 3"},
		{"runtime outside install", "version: 0.2\nphases:\n  build:\n    runtime-versions:\n      go: 1\n", "runtime-versions is only allowed in the install phase, found in build at line 4"},
		{"bad on-failure", "version: 0.2\nphases:\n  build:\n    on-failure: IGNORE\n", `invalid on-failure value "IGNORE" at line 4: must be ABORT, CONTINUE or RETRY`},
		{"retry count", "version: 0.2\nphases:\n  build:\n    on-failure: RETRY-101\n", "invalid retry count 101 in on-failure at line 4: must be between 0 and 100"},
		{"artifacts without files", "version: 0.2\nartifacts:\n  name: x\n", "files key is missing in artifacts at line 3"},
		{"bad report format", "version: 0.2\nreports:\n  g:\n    files: [a]\n    file-format: XML\n", "invalid file-format XML for report group g at line 5"},
		{"bad shell", "version: 0.2\nenv:\n  shell: zsh\n", `invalid shell type "zsh" at line 3`},
		{"variables list", "version: 0.2\nenv:\n  variables:\n    - A\n", "Expected env.variables to be of map type: found sequence instead at line 4"},
		{"bad cache action", "version: 0.2\ncache:\n  paths: [a]\n  action: keep\n", `invalid cache action "keep" at line 4: must be restore or save`},
		{"graph without identifier", "version: 0.2\nbatch:\n  build-graph:\n    - buildspec: a.yml\n", "identifier is missing in batch.build-graph[0] at line 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.spec))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got error %v, want a *buildspec.Error", err)
			}
			if e.StatusCode != StatusYAMLFileError || e.Message != tt.want {
				t.Errorf("got %s %q, want %s %q", e.StatusCode, e.Message, StatusYAMLFileError, tt.want)
			}
		})
	}
}

func TestParseSecretRef(t *testing.T) {
	tests := []struct {
		ref  string
		want [4]string
	}{
		{"prod/db", [4]string{"prod/db", "", "", ""}},
		{"prod/db:password", [4]string{"prod/db", "password", "", ""}},
		{"prod/db:password:AWSPREVIOUS", [4]string{"prod/db", "password", "AWSPREVIOUS", ""}},
		{"prod/db:::v1", [4]string{"prod/db", "", "", "v1"}},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:user", [4]string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf", "user", "", ""}},
	}
	for _, tt := range tests {
		id, key, stage, version := ParseSecretRef(tt.ref)
		if got := [4]string{id, key, stage, version}; got != tt.want {
			t.Errorf("ParseSecretRef(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

package codebuild

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/codebuild"
	"overcast/internal/codebuild/buildspec"
	"overcast/internal/codebuild/runner"
	"overcast/internal/service"
	"overcast/internal/service/servicetest"
)

// batchRunner ends each build as its batch identifier says (FAILED for
// those in fail) and remembers the order builds ran in.
type batchRunner struct {
	mu    sync.Mutex
	fail  map[string]bool
	order []string
	seen  []runner.Build
}

func (r *batchRunner) Run(ctx context.Context, b runner.Build, h runner.Hooks, o runner.Observer) (runner.Result, error) {
	id := b.System["CODEBUILD_BATCH_BUILD_IDENTIFIER"]
	r.mu.Lock()
	r.order = append(r.order, id)
	r.seen = append(r.seen, b)
	status := runner.StatusSucceeded
	if r.fail[id] {
		status = runner.StatusFailed
	}
	r.mu.Unlock()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	o.Phase(runner.Phase{Type: runner.PhaseBuild, Start: at})
	o.Phase(runner.Phase{Type: runner.PhaseBuild, Status: status, Start: at, End: at})
	res := runner.Result{Status: status}
	if len(b.Artifacts) > 0 && b.Artifacts[0].Type == "S3" {
		location, err := uploadIdentifier(ctx, b, h, id)
		if err != nil {
			return runner.Result{Status: runner.StatusFailed}, err
		}
		res.ArtifactLocations = map[string]string{"": location}
	}
	return res, nil
}

// uploadIdentifier uploads a primary artifact of one file, out/<id>.txt,
// holding the build's batch identifier.
func uploadIdentifier(ctx context.Context, b runner.Build, h runner.Hooks, id string) (string, error) {
	dir := filepath.Join(b.WorkDir, "artifact")
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "out", id+".txt"), []byte(id), 0o644); err != nil {
		return "", err
	}
	return h.UploadArtifact(ctx, runner.Artifact{Target: b.Artifacts[0], Path: dir})
}

func (r *batchRunner) setFail(ids ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = map[string]bool{}
	for _, id := range ids {
		r.fail[id] = true
	}
}

func (r *batchRunner) ran() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.order...)
}

func batchProject(t *testing.T, h *harness, name, spec string, restrictions *api.BatchRestrictions) {
	h.project(t, name, func(in *api.CreateProjectInput) {
		in.Source.Buildspec = &spec
		in.Environment.EnvironmentVariables = nil
		in.BuildBatchConfig = &api.ProjectBuildBatchConfig{ServiceRole: new("batch-role"), Restrictions: restrictions}
	})
}

func (h *harness) startBatch(t *testing.T, project string) api.BuildBatch {
	t.Helper()
	out, err := h.s.StartBuildBatch(h.ctx, &api.StartBuildBatchInput{ProjectName: &project})
	if err != nil {
		t.Fatalf("StartBuildBatch: %v", err)
	}
	return *out.BuildBatch
}

func (h *harness) getBatch(t *testing.T, id string) api.BuildBatch {
	t.Helper()
	out, err := h.s.BatchGetBuildBatches(h.ctx, &api.BatchGetBuildBatchesInput{Ids: api.BuildBatchIds{id}})
	if err != nil || len(out.BuildBatches) != 1 {
		t.Fatalf("BatchGetBuildBatches %s: %v, %+v", id, err, out)
	}
	return out.BuildBatches[0]
}

func (h *harness) waitBatch(t *testing.T, id, status string) api.BuildBatch {
	t.Helper()
	servicetest.WaitFor(t, "batch "+id+" "+status, func() bool { return service.Deref(h.getBatch(t, id).BuildBatchStatus) == status })
	return h.getBatch(t, id)
}

func batchPhases(b api.BuildBatch) []string {
	return service.Map(b.Phases, func(p api.BuildBatchPhase) string { return *p.PhaseType + ":" + service.Deref(p.PhaseStatus) })
}

// groupBuilds is each group's identifier with its current build's status,
// "-" for a group that never started.
func groupBuilds(b api.BuildBatch) map[string]string {
	out := map[string]string{}
	for _, g := range b.BuildGroups {
		out[*g.Identifier] = "-"
		if g.CurrentBuildSummary != nil {
			out[*g.Identifier] = *g.CurrentBuildSummary.BuildStatus
		}
	}
	return out
}

const buildListSpec = `version: 0.2
batch:
  build-list:
    - identifier: lint
      env:
        variables:
          TARGET: lint
    - identifier: unit
      depend-on: [lint]
      env:
        image: local/tester
    - identifier: docs
      ignore-failure: true
phases:
  build:
    commands: [make $TARGET]
`

func TestBuildBatchList(t *testing.T) {
	r := &batchRunner{}
	r.setFail("docs")
	h := newHarness(t, r, 0)
	batchProject(t, h, "app", buildListSpec, nil)
	started := h.startBatch(t, "app")
	if !strings.HasPrefix(*started.Id, "app:") || *started.BuildBatchNumber != 1 || *started.CurrentPhase != "DOWNLOAD_BATCHSPEC" {
		t.Errorf("started batch: id %s, number %d, phase %s", *started.Id, *started.BuildBatchNumber, *started.CurrentPhase)
	}
	b := h.waitBatch(t, *started.Id, statusSucceeded)

	want := []string{"SUBMITTED:SUCCEEDED", "DOWNLOAD_BATCHSPEC:SUCCEEDED", "IN_PROGRESS:SUCCEEDED", "SUCCEEDED:"}
	if diff := cmp.Diff(want, batchPhases(b)); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"lint": "SUCCEEDED", "unit": "SUCCEEDED", "docs": "FAILED"}, groupBuilds(b)); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if got := b.BuildGroups[1].DependsOn; len(got) != 1 || got[0] != "lint" {
		t.Errorf("unit dependsOn: got %v, want [lint]", got)
	}
	order := r.ran()
	if lint, unit := indexOf(order, "lint"), indexOf(order, "unit"); lint < 0 || unit < lint {
		t.Errorf("build order %v: unit must run after lint", order)
	}
	for _, rb := range r.seen {
		id := rb.System["CODEBUILD_BATCH_BUILD_IDENTIFIER"]
		child := h.get(t, rb.ID)
		if service.Deref(child.BuildBatchArn) != *b.Arn {
			t.Errorf("%s: buildBatchArn %q, want %q", id, service.Deref(child.BuildBatchArn), *b.Arn)
		}
		switch id {
		case "lint":
			if !hasVar(rb.Env, "TARGET", "lint") {
				t.Errorf("lint's variables: got %+v, want TARGET=lint", rb.Env)
			}
		case "unit":
			if rb.Image != "local/tester" {
				t.Errorf("unit's image: got %q, want local/tester", rb.Image)
			}
		}
	}

	ids, err := h.s.ListBuildBatchesForProject(h.ctx, &api.ListBuildBatchesForProjectInput{ProjectName: new("app")})
	if err != nil || len(ids.Ids) != 1 || ids.Ids[0] != *b.Id {
		t.Errorf("ListBuildBatchesForProject: got %v, %v", ids, err)
	}
	deleted, err := h.s.DeleteBuildBatch(h.ctx, &api.DeleteBuildBatchInput{Id: b.Id})
	if err != nil || len(deleted.BuildsDeleted) != 3 {
		t.Fatalf("DeleteBuildBatch: got %+v, %v; want 3 builds deleted", deleted, err)
	}
	if _, err := h.s.StopBuildBatch(h.ctx, &api.StopBuildBatchInput{Id: b.Id}); err == nil {
		t.Error("StopBuildBatch of a deleted batch: got no error")
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func hasVar(vars []runner.EnvVar, name, value string) bool {
	for _, v := range vars {
		if v.Name == name && v.Value == value {
			return true
		}
	}
	return false
}

func TestBuildBatchFailureAndRetry(t *testing.T) {
	r := &batchRunner{}
	r.setFail("compile")
	h := newHarness(t, r, 0)
	batchProject(t, h, "app", `version: 0.2
batch:
  build-graph:
    - identifier: compile
    - identifier: package
      depend-on: [compile]
phases:
  build:
    commands: [make]
`, nil)
	b := h.waitBatch(t, *h.startBatch(t, "app").Id, statusFailed)
	if diff := cmp.Diff(map[string]string{"compile": "FAILED", "package": "-"}, groupBuilds(b)); diff != "" {
		t.Errorf("groups after compile failed (-want +got):\n%s", diff)
	}

	r.setFail()
	if _, err := h.s.RetryBuildBatch(h.ctx, &api.RetryBuildBatchInput{Id: b.Id, RetryType: new("RETRY_FAILED_BUILDS")}); err != nil {
		t.Fatal(err)
	}
	b = h.waitBatch(t, *b.Id, statusSucceeded)
	if diff := cmp.Diff(map[string]string{"compile": "SUCCEEDED", "package": "SUCCEEDED"}, groupBuilds(b)); diff != "" {
		t.Errorf("groups after the retry (-want +got):\n%s", diff)
	}
	if prior := b.BuildGroups[0].PriorBuildSummaryList; len(prior) != 1 || *prior[0].BuildStatus != statusFailed {
		t.Errorf("compile's prior builds: got %+v, want the failed one", prior)
	}
	if diff := cmp.Diff([]string{"compile", "compile", "package"}, r.ran()); diff != "" {
		t.Errorf("builds run (-want +got):\n%s", diff)
	}
}

func TestBuildBatchRefused(t *testing.T) {
	h := newHarness(t, &batchRunner{}, 0)
	h.project(t, "plain", nil)
	if _, err := h.s.StartBuildBatch(h.ctx, &api.StartBuildBatchInput{ProjectName: new("plain")}); err == nil ||
		!strings.Contains(err.Error(), "Batch build configuration") {
		t.Errorf("a project without a batch configuration: got %v, want InvalidInputException", err)
	}
	for _, tt := range []struct {
		name, spec   string
		restrictions *api.BatchRestrictions
		want         string
	}{
		{"too many builds", buildListSpec, &api.BatchRestrictions{MaximumBuildsAllowed: new(int32(2))}, "exceeds the maximum of 2"},
		{"compute type not allowed", buildListSpec, &api.BatchRestrictions{ComputeTypesAllowed: api.ComputeTypesAllowed{"BUILD_GENERAL1_LARGE"}}, "Compute type BUILD_GENERAL1_SMALL"},
		{"no batch section", "version: 0.2\nphases:\n  build:\n    commands: [make]\n", nil, "batch section"},
		{"unknown dependency", "version: 0.2\nbatch:\n  build-graph:\n    - identifier: a\n      depend-on: [b]\n", nil, "depends on b"},
		{"cycle", "version: 0.2\nbatch:\n  build-graph:\n    - identifier: a\n      depend-on: [b]\n    - identifier: b\n      depend-on: [a]\n", nil, "depends on itself"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := strings.ReplaceAll(tt.name, " ", "-")
			batchProject(t, h, name, tt.spec, tt.restrictions)
			b := h.waitBatch(t, *h.startBatch(t, name).Id, statusFailed)
			download := b.Phases[1]
			if *download.PhaseType != "DOWNLOAD_BATCHSPEC" || len(download.Contexts) != 1 || !strings.Contains(*download.Contexts[0].Message, tt.want) {
				t.Errorf("DOWNLOAD_BATCHSPEC: got %s with %+v, want a context saying %q", *download.PhaseType, download.Contexts, tt.want)
			}
		})
	}
}

func TestExpandBatch(t *testing.T) {
	spec, err := buildspec.Parse([]byte(`version: 0.2
batch:
  build-matrix:
    static:
      ignore-failure: true
      env:
        variables:
          COMMON: yes
    dynamic:
      env:
        image: [img/a, img/b]
        variables:
          GO: ["1.22", "1.23"]
`))
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		ID, Image string
		Vars      string
		Ignore    bool
	}
	got := service.Map(expandBatch(spec.Batch), func(t batchTask) summary {
		vars := service.Map(t.Variables, func(v buildspec.Var) string { return v.Name + "=" + v.Value })
		return summary{t.Identifier, t.Image, strings.Join(vars, ","), t.IgnoreFailure}
	})
	want := []summary{
		{"build1", "img/a", "COMMON=yes,GO=1.22", true},
		{"build2", "img/a", "COMMON=yes,GO=1.23", true},
		{"build3", "img/b", "COMMON=yes,GO=1.22", true},
		{"build4", "img/b", "COMMON=yes,GO=1.23", true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("matrix builds (-want +got):\n%s", diff)
	}
}

func TestBuildBatchTimesOut(t *testing.T) {
	h := newHarness(t, &fakeRunner{block: true}, 0)
	h.project(t, "slow", func(in *api.CreateProjectInput) {
		in.Source.Buildspec = new("version: 0.2\nbatch:\n  build-list:\n    - identifier: forever\nphases:\n  build:\n    commands: [sleep 1000]\n")
		in.Environment.EnvironmentVariables = nil
		in.BuildBatchConfig = &api.ProjectBuildBatchConfig{ServiceRole: new("batch-role"), TimeoutInMins: new(int32(5))}
	})
	id := *h.startBatch(t, "slow").Id
	servicetest.WaitFor(t, "the batch's build to run", func() bool {
		g := h.getBatch(t, id).BuildGroups
		return len(g) == 1 && g[0].CurrentBuildSummary != nil
	})
	servicetest.Fake(h.env).Advance(5 * time.Minute)
	b := h.waitBatch(t, id, statusTimedOut)
	if diff := cmp.Diff(map[string]string{"forever": statusStopped}, groupBuilds(b)); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if _, err := h.s.DeleteBuildBatch(h.ctx, &api.DeleteBuildBatchInput{Id: &id}); err != nil {
		t.Errorf("DeleteBuildBatch of a timed-out batch: %v", err)
	}
}

// combineProject is a project of two builds, lint and unit, whose
// artifacts go to the bucket artifacts under out/, named bundle.
func combineProject(t *testing.T, h *harness, combine bool) {
	h.project(t, "app", func(in *api.CreateProjectInput) {
		in.Source.Buildspec = new("version: 0.2\nbatch:\n  build-list:\n    - identifier: lint\n    - identifier: unit\nphases:\n  build:\n    commands: [make]\n")
		in.Environment.EnvironmentVariables = nil
		in.Artifacts = &api.ProjectArtifacts{Type: new("S3"), Location: new("artifacts"), Path: new("out"), Name: new("bundle"),
			NamespaceType: new("BUILD_ID"), Packaging: new("NONE")}
		in.BuildBatchConfig = &api.ProjectBuildBatchConfig{ServiceRole: new("batch-role"), CombineArtifacts: new(combine)}
	})
}

func TestBuildBatchCombinesArtifacts(t *testing.T) {
	for _, tt := range []struct {
		name    string
		combine bool
	}{
		{"combined", true},
		{"separate", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bucket := &memoryBucket{objects: map[string]string{}}
			h := newHarnessWith(t, Options{Runner: &batchRunner{}, Objects: bucket})
			combineProject(t, h, tt.combine)
			b := h.waitBatch(t, *h.startBatch(t, "app").Id, statusSucceeded)
			uuid := strings.TrimPrefix(*b.Id, "app:")

			wantPhases := []string{"SUBMITTED:SUCCEEDED", "DOWNLOAD_BATCHSPEC:SUCCEEDED", "IN_PROGRESS:SUCCEEDED", "SUCCEEDED:"}
			wantLocation := "arn:aws:s3:::artifacts"
			var wantCombined []string
			if tt.combine {
				wantPhases = []string{"SUBMITTED:SUCCEEDED", "DOWNLOAD_BATCHSPEC:SUCCEEDED", "IN_PROGRESS:SUCCEEDED", "COMBINE_ARTIFACTS:SUCCEEDED", "SUCCEEDED:"}
				wantLocation = "arn:aws:s3:::artifacts/out/" + uuid + "/bundle"
				wantCombined = []string{"out/" + uuid + "/bundle/lint/out/lint.txt", "out/" + uuid + "/bundle/unit/out/unit.txt"}
			}
			if diff := cmp.Diff(wantPhases, batchPhases(b)); diff != "" {
				t.Errorf("phases (-want +got):\n%s", diff)
			}
			if got := service.Deref(b.Artifacts.Location); got != wantLocation {
				t.Errorf("batch artifacts location: got %q, want %q", got, wantLocation)
			}
			if diff := cmp.Diff(wantCombined, bucket.keys("artifacts", "out/"+uuid+"/")); diff != "" {
				t.Errorf("objects in the batch's location (-want +got):\n%s", diff)
			}
			// Each build keeps its own artifact either way.
			for _, g := range b.BuildGroups {
				child := h.get(t, *g.CurrentBuildSummary.Arn)
				key := strings.TrimPrefix(*child.Artifacts.Location, "arn:aws:s3:::artifacts/") + "/out/" + *g.Identifier + ".txt"
				if got := bucket.objects["artifacts/"+key]; got != *g.Identifier {
					t.Errorf("build %s's own artifact %s: got %q, want %q", *g.Identifier, key, got, *g.Identifier)
				}
			}
		})
	}
}

func TestBuildBatchCombineFails(t *testing.T) {
	bucket := &memoryBucket{objects: map[string]string{}, failCopies: map[string]bool{"artifacts": true}}
	h := newHarnessWith(t, Options{Runner: &batchRunner{}, Objects: bucket})
	combineProject(t, h, true)
	b := h.waitBatch(t, *h.startBatch(t, "app").Id, statusFailed)
	want := []string{"SUBMITTED:SUCCEEDED", "DOWNLOAD_BATCHSPEC:SUCCEEDED", "IN_PROGRESS:SUCCEEDED", "COMBINE_ARTIFACTS:FAILED", "FAILED:"}
	if diff := cmp.Diff(want, batchPhases(b)); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	combine := b.Phases[3]
	if len(combine.Contexts) != 1 || *combine.Contexts[0].StatusCode != "CLIENT_ERROR" || !strings.Contains(*combine.Contexts[0].Message, "Failed to copy s3://artifacts/") {
		t.Errorf("COMBINE_ARTIFACTS contexts: got %+v, want the failed copy", combine.Contexts)
	}
	if got := service.Deref(b.Artifacts.Location); got != "arn:aws:s3:::artifacts" {
		t.Errorf("batch artifacts location: got %q, want the bucket alone", got)
	}
}

func TestRetryBuildKeepsOriginVariables(t *testing.T) {
	webhook := map[string]string{"CODEBUILD_WEBHOOK_EVENT": "PUSH", "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/main", "CODEBUILD_WEBHOOK_TRIGGER": "branch/main"}
	for _, tt := range []struct {
		name  string
		start func(t *testing.T, h *harness) string // the build to retry
		want  map[string]string
	}{
		{"batch child", func(t *testing.T, h *harness) string {
			b := h.waitBatch(t, *h.startBatch(t, "app").Id, statusSucceeded)
			return *b.BuildGroups[0].CurrentBuildSummary.Arn
		}, map[string]string{"CODEBUILD_BATCH_BUILD_IDENTIFIER": "build1", "CODEBUILD_BATCH_BUILD_SHARD": "0", "CODEBUILD_BATCH_BUILD_SHARDS": "1"}},
		{"webhook build", func(t *testing.T, h *harness) string {
			out, err := h.s.startBuild(h.ctx, &api.StartBuildInput{ProjectName: new("app")}, buildOrigin{Initiator: "codecommit", System: webhook})
			if err != nil {
				t.Fatal(err)
			}
			return *out.Build.Id
		}, webhook},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &batchRunner{}
			h := newHarness(t, r, 0)
			batchProject(t, h, "app", "version: 0.2\nbatch:\n  build-fanout:\n    parallelism: 1\nphases:\n  build:\n    commands: [make]\n", nil)
			out, err := h.s.RetryBuild(h.ctx, &api.RetryBuildInput{Id: new(tt.start(t, h))})
			if err != nil {
				t.Fatal(err)
			}
			h.waitStatus(t, *out.Build.Id, statusSucceeded)
			got := map[string]string{}
			r.mu.Lock()
			for _, rb := range r.seen {
				if rb.ID == *out.Build.Id {
					for name := range tt.want {
						got[name] = rb.System[name]
					}
				}
			}
			r.mu.Unlock()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("the retried build's variables (-want +got):\n%s", diff)
			}
		})
	}
}

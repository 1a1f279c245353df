package codebuild

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/codebuild"
	"overcast/internal/bus"
	"overcast/internal/codebuild/buildspec"
	"overcast/internal/controller"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Batch builds: a batch is a record the batches controller drives. It reads
// the buildspec's batch section (DOWNLOAD_BATCHSPEC), starts each entry as a
// normal build once the entries it depends on have succeeded (IN_PROGRESS),
// and ends when no build runs and none can start. A child build's state
// change on the bus wakes its batch.
const (
	batchesTable       = "codebuild.batches"       // scope + batch ID
	activeBatchesTable = "codebuild.activebatches" // the batches not complete: the controller's keys
	batchNumbersTable  = "codebuild.batchnumbers"  // scope + project: the last buildBatchNumber
)

// Batch phases, after SUBMITTED; a batch's last phase is its status.
const (
	batchPhaseDownload = "DOWNLOAD_BATCHSPEC"
	batchPhaseRun      = "IN_PROGRESS"
	batchPhaseCombine  = "COMBINE_ARTIFACTS"
)

// defaultMaximumBuilds is a batch's build limit when the project's batch
// configuration sets none.
const defaultMaximumBuilds = 100

// addBatches registers the batches controller.
func (s *Service) addBatches(env *service.Env) {
	s.batches = env.Controllers.Add(controller.Config{
		Name:       "codebuild-batches",
		Reconciler: controller.ReconcilerFunc(s.reconcileBatch),
		Keys:       store.TableKeysFunc(env.Store, activeBatchesTable),
		Watch:      []controller.Watch{s.batchWatch()},
	})
}

// buildOrigin is what started a build besides StartBuild: the batch it
// belongs to or the webhook that triggered it.
type buildOrigin struct {
	Initiator string            `json:"initiator,omitempty"`
	BatchARN  string            `json:"batchArn,omitempty"`
	System    map[string]string `json:"system,omitempty"`
}

// apply marks a new build with its origin.
func (o buildOrigin) apply(b *build) {
	if o.Initiator != "" {
		b.Build.Initiator = &o.Initiator
	}
	if o.BatchARN != "" {
		b.Build.BuildBatchArn = &o.BatchARN
	}
	if len(o.System) > 0 {
		b.System = o.System
	}
}

// buildBatch is a batch's record.
type buildBatch struct {
	Batch   api.BuildBatch `json:"batch"`
	Account string         `json:"account"`
	Region  string         `json:"region"`
	// Request is StartBuildBatch's input: every child build gets its
	// overrides.
	Request          api.StartBuildBatchInput `json:"request"`
	Origin           buildOrigin              `json:"origin"`
	Tasks            []batchTask              `json:"tasks,omitempty"`
	FastFail         bool                     `json:"fastFail,omitempty"`
	StopRequested    bool                     `json:"stopRequested,omitempty"`
	IdempotencyToken string                   `json:"idempotencyToken,omitempty"`
	// Attempt counts RetryBuildBatch calls: a retried entry's build gets a
	// new idempotency token.
	Attempt int `json:"attempt,omitempty"`
}

func (b *buildBatch) scope() scope { return scope{Account: b.Account, Region: b.Region} }

// batchTask is one build the batch section asks for, its matrix or fanout
// expanded.
type batchTask struct {
	Identifier    string            `json:"identifier"`
	Buildspec     string            `json:"buildspec,omitempty"`
	Image         string            `json:"image,omitempty"`
	ComputeType   string            `json:"computeType,omitempty"`
	Type          string            `json:"type,omitempty"`
	Privileged    bool              `json:"privileged,omitempty"`
	Variables     []buildspec.Var   `json:"variables,omitempty"`
	DependOn      []string          `json:"dependOn,omitempty"`
	IgnoreFailure bool              `json:"ignoreFailure,omitempty"`
	System        map[string]string `json:"system,omitempty"`
}

func buildBatchARN(sc scope, id string) string { return sc.ARN("codebuild", "build-batch/"+id) }

// buildBatchID is the ID an ID or an ARN names.
func buildBatchID(idOrARN string) string {
	if _, id, ok := strings.Cut(idOrARN, ":build-batch/"); ok {
		return id
	}
	return idOrARN
}

func getBuildBatch(tx store.Tx, sc scope, id string) (*buildBatch, int64, error) {
	var b buildBatch
	version, err := store.GetJSON(tx, batchesTable, sc.Key(buildBatchID(id)), &b)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, notFound("Build batch cannot be found: %s", buildBatchID(id))
	}
	return &b, version, err
}

func (s *Service) StartBuildBatch(ctx context.Context, in *api.StartBuildBatchInput) (*api.StartBuildBatchOutput, error) {
	return s.startBuildBatch(ctx, in, buildOrigin{})
}

// startBuildBatch records a batch, SUBMITTED and downloading its batchspec,
// for the controller to run.
func (s *Service) startBuildBatch(ctx context.Context, in *api.StartBuildBatchInput, origin buildOrigin) (*api.StartBuildBatchOutput, error) {
	sc := overcast.ScopeOf(ctx)
	name := projectName(*in.ProjectName)
	now := s.Now()
	var out api.BuildBatch
	var key string
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		p, _, err := getProject(tx, sc, name)
		if err != nil {
			return err
		}
		if token := service.Deref(in.IdempotencyToken); token != "" {
			prior, err := store.FilterJSON(tx, batchesTable, store.ScanOptions{Prefix: sc.Key(name + ":")}, func(b buildBatch) bool {
				return b.IdempotencyToken == token
			})
			if err != nil || len(prior) > 0 {
				if len(prior) > 0 {
					out, key = prior[0].Batch, ""
				}
				return err
			}
		}
		config := in.BuildBatchConfigOverride
		if config == nil {
			config = p.Project.BuildBatchConfig
		}
		if config == nil || service.Deref(config.ServiceRole) == "" {
			return invalidInput("Batch build configuration with a service role is required for project %s to start a batch build", name)
		}
		// A build validates the overrides as StartBuild would.
		probe, err := newBuild(sc, p, childInput(in, batchTask{}), "probe", "", now)
		if err != nil {
			return err
		}
		number, err := nextBatchNumber(tx, sc, name)
		if err != nil {
			return err
		}
		id := name + ":" + s.IDs.UUID()
		pb := probe.Build
		b := &buildBatch{Account: sc.Account, Region: sc.Region, Request: *in, Origin: origin,
			IdempotencyToken: service.Deref(in.IdempotencyToken)}
		b.Batch = api.BuildBatch{
			Id: &id, Arn: new(buildBatchARN(sc, id)), StartTime: &now, CurrentPhase: new(batchPhaseDownload),
			BuildBatchStatus: new(statusInProgress), SourceVersion: pb.SourceVersion, ProjectName: &name,
			Phases: api.BuildBatchPhases{
				{PhaseType: new(phaseSubmitted), PhaseStatus: new(statusSucceeded), StartTime: &now, EndTime: &now, DurationInSeconds: new(int64(0))},
				{PhaseType: new(batchPhaseDownload), StartTime: &now},
			},
			Source: pb.Source, SecondarySources: pb.SecondarySources, SecondarySourceVersions: pb.SecondarySourceVersions,
			Artifacts: pb.Artifacts, SecondaryArtifacts: pb.SecondaryArtifacts, Cache: pb.Cache, Environment: pb.Environment,
			ServiceRole: new(roleARN(sc, *config.ServiceRole)), LogConfig: logsConfigOf(pb.Logs),
			BuildTimeoutInMinutes: pb.TimeoutInMinutes, QueuedTimeoutInMinutes: pb.QueuedTimeoutInMinutes,
			Complete: new(false), Initiator: new(cmp.Or(origin.Initiator, initiator(ctx))), VpcConfig: pb.VpcConfig,
			EncryptionKey: pb.EncryptionKey, BuildBatchNumber: &number, FileSystemLocations: pb.FileSystemLocations,
			BuildBatchConfig: config, BuildGroups: api.BuildGroups{}, DebugSessionEnabled: new(false), ReportArns: api.BuildReportArns{},
		}
		key = sc.Key(id)
		if _, err := store.PutJSON(tx, batchesTable, key, b, 0); err != nil {
			return err
		}
		_, err = tx.Put(activeBatchesTable, key, nil, 0)
		out = b.Batch
		return err
	})
	if err != nil {
		return nil, err
	}
	if key != "" {
		s.batches.Enqueue(key)
	}
	return &api.StartBuildBatchOutput{BuildBatch: &out}, nil
}

// nextBatchNumber counts the project's batches: numbers start at 1.
func nextBatchNumber(tx store.Tx, sc scope, project string) (int64, error) {
	var n int64
	version, err := store.GetJSON(tx, batchNumbersTable, sc.Key(project), &n)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	n++
	if errors.Is(err, store.ErrNotFound) {
		version = 0
	}
	_, err = store.PutJSON(tx, batchNumbersTable, sc.Key(project), n, version)
	return n, err
}

// childInput is the StartBuild request of one batch entry: the batch's
// overrides, then the entry's.
func childInput(in *api.StartBuildBatchInput, t batchTask) *api.StartBuildInput {
	c := &api.StartBuildInput{
		ProjectName: in.ProjectName, SecondarySourcesOverride: in.SecondarySourcesOverride,
		SecondarySourcesVersionOverride: in.SecondarySourcesVersionOverride, SourceVersion: in.SourceVersion,
		ArtifactsOverride: in.ArtifactsOverride, SecondaryArtifactsOverride: in.SecondaryArtifactsOverride,
		EnvironmentVariablesOverride: in.EnvironmentVariablesOverride, SourceTypeOverride: in.SourceTypeOverride,
		SourceLocationOverride: in.SourceLocationOverride, SourceAuthOverride: in.SourceAuthOverride,
		GitCloneDepthOverride: in.GitCloneDepthOverride, BuildspecOverride: in.BuildspecOverride,
		InsecureSslOverride: in.InsecureSslOverride, EnvironmentTypeOverride: in.EnvironmentTypeOverride,
		ImageOverride: in.ImageOverride, ComputeTypeOverride: in.ComputeTypeOverride, CertificateOverride: in.CertificateOverride,
		CacheOverride: in.CacheOverride, ServiceRoleOverride: in.ServiceRoleOverride, PrivilegedModeOverride: in.PrivilegedModeOverride,
		TimeoutInMinutesOverride: in.BuildTimeoutInMinutesOverride, QueuedTimeoutInMinutesOverride: in.QueuedTimeoutInMinutesOverride,
		EncryptionKeyOverride: in.EncryptionKeyOverride, LogsConfigOverride: in.LogsConfigOverride,
		ImagePullCredentialsTypeOverride: in.ImagePullCredentialsTypeOverride,
	}
	replace(&c.BuildspecOverride, service.OmitZero(t.Buildspec))
	replace(&c.ImageOverride, service.OmitZero(t.Image))
	replace(&c.ComputeTypeOverride, service.OmitZero(t.ComputeType))
	replace(&c.EnvironmentTypeOverride, service.OmitZero(t.Type))
	if t.Privileged {
		c.PrivilegedModeOverride = new(true)
	}
	if len(t.Variables) > 0 {
		vars := slices.Clone(c.EnvironmentVariablesOverride)
		for _, v := range t.Variables {
			vars = append(vars, api.EnvironmentVariable{Name: new(v.Name), Value: new(v.Value), Type: new("PLAINTEXT")})
		}
		c.EnvironmentVariablesOverride = vars
	}
	return c
}

// batchWatch wakes a batch when one of its builds changes state.
func (s *Service) batchWatch() controller.Watch {
	return controller.Watch{
		Pattern: bus.Pattern{Source: eventSource, Types: []string{buildStateChange}},
		Keys: func(ev bus.Event) []string {
			if len(ev.Resources) == 0 {
				return nil
			}
			sc := scope{Account: ev.Account, Region: ev.Region}
			var batch string
			_ = s.Store.View(context.Background(), func(tx store.Tx) error {
				b, _, err := getBuild(tx, sc.Key(buildID(ev.Resources[0])))
				if err == nil {
					batch = service.Deref(b.Build.BuildBatchArn)
				}
				return nil
			})
			if batch == "" {
				return nil
			}
			return []string{sc.Key(buildBatchID(batch))}
		},
	}
}

// reconcileBatch moves a batch on: reads its batchspec, starts the builds
// whose dependencies are met, and ends it when nothing runs or can start.
func (s *Service) reconcileBatch(ctx context.Context, key string) (controller.Result, error) {
	var b buildBatch
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, batchesTable, key, &b)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return controller.Result{}, s.Store.Update(ctx, func(tx store.Tx) error { return store.DeleteKeys(tx, activeBatchesTable, []string{key}) })
	}
	if err != nil || service.Deref(b.Batch.Complete) {
		return controller.Result{}, err
	}
	ctx = overcast.WithCaller(ctx, overcast.RootCaller(b.Account, b.Region))
	if *b.Batch.CurrentPhase == batchPhaseDownload {
		tasks, fastFail, cause := s.batchTasks(ctx, &b)
		return controller.Result{Requeue: cause == nil}, s.updateBatch(ctx, key, func(b *buildBatch, now timeNow) {
			if cause != nil {
				endBatchPhase(&b.Batch, statusFailed, now(), cause)
				finishBatch(&b.Batch, statusFailed, now())
				return
			}
			b.Tasks, b.FastFail = tasks, fastFail
			for _, t := range tasks {
				b.Batch.BuildGroups = append(b.Batch.BuildGroups, api.BuildGroup{Identifier: new(t.Identifier),
					DependsOn: nonNil(t.DependOn), IgnoreFailure: new(t.IgnoreFailure), PriorBuildSummaryList: api.BuildSummaries{}})
			}
			endBatchPhase(&b.Batch, statusSucceeded, now(), nil)
			startBatchPhase(&b.Batch, batchPhaseRun, now())
		})
	}
	if *b.Batch.CurrentPhase == batchPhaseCombine { // a restart or a build event came while it combined
		return controller.Result{}, s.combineArtifacts(ctx, key, &b)
	}
	deadline, err := s.runBatch(ctx, key)
	if err != nil || deadline.IsZero() {
		return controller.Result{}, err
	}
	return controller.At(deadline), nil
}

// batchDeadline is when a batch with a timeoutInMins times out; zero when it
// has none.
func batchDeadline(b *api.BuildBatch) time.Time {
	minutes := service.Deref(b.BuildBatchConfig.TimeoutInMins)
	if minutes <= 0 {
		return time.Time{}
	}
	return b.StartTime.Add(time.Duration(minutes) * time.Minute)
}

// timeNow is the clock updateBatch hands its change.
type timeNow = func() time.Time

// updateBatch changes a batch's record with change; a batch that has
// completed is not changed again.
func (s *Service) updateBatch(ctx context.Context, key string, change func(b *buildBatch, now timeNow)) error {
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var b buildBatch
		version, err := store.GetJSON(tx, batchesTable, key, &b)
		if err != nil || service.Deref(b.Batch.Complete) {
			return err
		}
		change(&b, s.Now)
		if _, err := store.PutJSON(tx, batchesTable, key, &b, version); err != nil {
			return err
		}
		if service.Deref(b.Batch.Complete) {
			return store.DeleteKeys(tx, activeBatchesTable, []string{key})
		}
		return nil
	})
}

// runBatch is one pass of a running batch: it records the builds' statuses,
// stops them when the batch stops (or fast-fails, or times out), starts
// those that may start, and ends the batch when none runs. It returns the
// batch's deadline while it runs.
func (s *Service) runBatch(ctx context.Context, key string) (time.Time, error) {
	var toStart []batchTask
	var toStop []string
	var batch buildBatch
	err := s.updateBatch(ctx, key, func(b *buildBatch, now timeNow) {
		toStart, toStop = nil, nil
		deadline := batchDeadline(&b.Batch)
		timedOut := !deadline.IsZero() && !now().Before(deadline)
		statuses := s.childStatuses(ctx, b)
		failed := false
		for i, t := range b.Tasks {
			if st := statuses[i]; st != "" && st != statusInProgress && st != statusSucceeded && !t.IgnoreFailure {
				failed = true
			}
		}
		stopping := b.StopRequested || timedOut || (b.FastFail && failed)
		running := 0
		for i, t := range b.Tasks {
			switch st := statuses[i]; {
			case st == statusInProgress:
				running++
				if stopping {
					toStop = append(toStop, *b.Batch.BuildGroups[i].CurrentBuildSummary.Arn)
				}
			case st == "" && !stopping && dependenciesMet(b, statuses, t):
				toStart = append(toStart, t)
				running++
			}
		}
		if running == 0 {
			status := statusSucceeded
			switch {
			case b.StopRequested:
				status = statusStopped
			case timedOut:
				status = statusTimedOut
			case failed:
				status = statusFailed
			}
			endBatchPhase(&b.Batch, status, now(), nil)
			if service.Deref(b.Batch.BuildBatchConfig.CombineArtifacts) && status == statusSucceeded {
				startBatchPhase(&b.Batch, batchPhaseCombine, now()) // combineArtifacts ends the batch
			} else {
				finishBatch(&b.Batch, status, now())
			}
		}
		batch = *b
	})
	if err != nil {
		return time.Time{}, err
	}
	for _, arn := range toStop {
		if _, err := s.StopBuild(ctx, &api.StopBuildInput{Id: new(arn)}); err != nil {
			return time.Time{}, err
		}
	}
	var errs []error
	for _, t := range toStart {
		errs = append(errs, s.startBatchBuild(ctx, key, &batch, t))
	}
	if service.Deref(batch.Batch.CurrentPhase) == batchPhaseCombine {
		return time.Time{}, errors.Join(append(errs, s.combineArtifacts(ctx, key, &batch))...)
	}
	if batch.Batch.BuildBatchConfig == nil || service.Deref(batch.Batch.Complete) {
		return time.Time{}, errors.Join(errs...)
	}
	return batchDeadline(&batch.Batch), errors.Join(errs...)
}

// childStatuses reads the status of each entry's current build ("" for an
// entry not started) and gathers the builds' reports as the batch's.
func (s *Service) childStatuses(ctx context.Context, b *buildBatch) []string {
	statuses := make([]string, len(b.Tasks))
	b.Batch.ReportArns = api.BuildReportArns{}
	_ = s.Store.View(ctx, func(tx store.Tx) error {
		for i := range b.Tasks {
			g := &b.Batch.BuildGroups[i]
			if g.CurrentBuildSummary == nil {
				continue
			}
			child, _, err := getBuild(tx, b.scope().Key(buildID(*g.CurrentBuildSummary.Arn)))
			if err != nil {
				statuses[i] = statusFault // deleted under the batch
				continue
			}
			statuses[i] = *child.Build.BuildStatus
			b.Batch.ReportArns = append(b.Batch.ReportArns, child.Build.ReportArns...)
			g.CurrentBuildSummary.BuildStatus = child.Build.BuildStatus
			if a := child.Build.Artifacts; a != nil && a.Location != nil {
				g.CurrentBuildSummary.PrimaryArtifact = &api.ResolvedArtifact{Type: new("S3"), Location: a.Location}
			}
		}
		return nil
	})
	return statuses
}

// dependenciesMet says whether every entry t depends on has succeeded (or
// failed while allowed to).
func dependenciesMet(b *buildBatch, statuses []string, t batchTask) bool {
	for _, dep := range t.DependOn {
		i := slices.IndexFunc(b.Tasks, func(o batchTask) bool { return o.Identifier == dep })
		if i < 0 {
			return false
		}
		done := statuses[i] != "" && statuses[i] != statusInProgress
		if !done || (statuses[i] != statusSucceeded && !b.Tasks[i].IgnoreFailure) {
			return false
		}
	}
	return true
}

// startBatchBuild starts one entry's build and records it in its group.
func (s *Service) startBatchBuild(ctx context.Context, key string, b *buildBatch, t batchTask) error {
	in := childInput(&b.Request, t)
	in.IdempotencyToken = new(fmt.Sprintf("%s/%s/%d", *b.Batch.Id, t.Identifier, b.Attempt))
	system := map[string]string{"CODEBUILD_BATCH_BUILD_IDENTIFIER": t.Identifier}
	for k, v := range b.Origin.System {
		system[k] = v
	}
	for k, v := range t.System {
		system[k] = v
	}
	out, err := s.startBuild(ctx, in, buildOrigin{Initiator: *b.Batch.Initiator, BatchARN: *b.Batch.Arn, System: system})
	if err != nil {
		return fmt.Errorf("batch %s, build %s: %w", *b.Batch.Id, t.Identifier, err)
	}
	return s.updateBatch(ctx, key, func(b *buildBatch, _ timeNow) {
		for i := range b.Batch.BuildGroups {
			if g := &b.Batch.BuildGroups[i]; *g.Identifier == t.Identifier {
				g.CurrentBuildSummary = &api.BuildSummary{Arn: out.Build.Arn, RequestedOn: out.Build.StartTime,
					BuildStatus: out.Build.BuildStatus, SecondaryArtifacts: api.ResolvedSecondaryArtifacts{}}
			}
		}
	})
}

func startBatchPhase(b *api.BuildBatch, phase string, now time.Time) {
	b.Phases = append(b.Phases, api.BuildBatchPhase{PhaseType: new(phase), StartTime: &now})
	b.CurrentPhase = new(phase)
}

// endBatchPhase ends the open phase with status (and cause as its context).
func endBatchPhase(b *api.BuildBatch, status string, now time.Time, cause *api.PhaseContext) {
	p := &b.Phases[len(b.Phases)-1]
	if p.PhaseStatus != nil {
		return
	}
	p.PhaseStatus, p.EndTime = new(status), &now
	p.DurationInSeconds = new(int64(now.Sub(*p.StartTime).Seconds()))
	if cause != nil {
		p.Contexts = api.PhaseContexts{*cause}
	}
}

// finishBatch ends the batch with status, its last phase named after it.
func finishBatch(b *api.BuildBatch, status string, now time.Time) {
	b.Phases = append(b.Phases, api.BuildBatchPhase{PhaseType: new(status), StartTime: &now})
	b.CurrentPhase, b.BuildBatchStatus, b.EndTime, b.Complete = new(status), new(status), &now, new(true)
}

// batchTasks reads the batch section of the batch's buildspec and expands
// it into the builds it asks for; cause says why it cannot.
func (s *Service) batchTasks(ctx context.Context, b *buildBatch) ([]batchTask, bool, *api.PhaseContext) {
	fail := func(code, format string, args ...any) ([]batchTask, bool, *api.PhaseContext) {
		return nil, false, &api.PhaseContext{StatusCode: new(code), Message: new(fmt.Sprintf(format, args...))}
	}
	text, err := s.batchspec(ctx, b)
	if err != nil {
		return fail("CLIENT_ERROR", "%v", err)
	}
	spec, err := buildspec.Parse([]byte(text))
	if err != nil {
		var bad *buildspec.Error
		if errors.As(err, &bad) {
			return fail(bad.StatusCode, "%s", bad.Message)
		}
		return fail("YAML_FILE_ERROR", "%v", err)
	}
	if spec.Batch == nil {
		return fail("CLIENT_ERROR", "batch is missing in the buildspec: a batch build needs a batch section")
	}
	tasks := expandBatch(spec.Batch)
	if len(tasks) == 0 {
		return fail("CLIENT_ERROR", "the batch section lists no builds")
	}
	config := b.Batch.BuildBatchConfig
	limit := defaultMaximumBuilds
	var computeTypes []string
	if r := config.Restrictions; r != nil {
		limit = int(service.DerefOr(r.MaximumBuildsAllowed, int32(defaultMaximumBuilds)))
		computeTypes = r.ComputeTypesAllowed
	}
	if len(tasks) > limit {
		return fail("CLIENT_ERROR", "Batch build of %d builds exceeds the maximum of %d builds allowed by the project's batch restrictions", len(tasks), limit)
	}
	seen := map[string]bool{}
	for _, t := range tasks {
		if seen[t.Identifier] {
			return fail("CLIENT_ERROR", "Duplicate build identifier %s in the batch section", t.Identifier)
		}
		seen[t.Identifier] = true
		computeType := cmp.Or(t.ComputeType, service.Deref(b.Batch.Environment.ComputeType))
		if len(computeTypes) > 0 && !slices.Contains(computeTypes, computeType) {
			return fail("CLIENT_ERROR", "Compute type %s of build %s is not allowed by the project's batch restrictions", computeType, t.Identifier)
		}
	}
	for _, t := range tasks {
		for _, d := range t.DependOn {
			if !seen[d] {
				return fail("CLIENT_ERROR", "Build %s depends on %s, which is not in the batch", t.Identifier, d)
			}
		}
	}
	if cycle := dependencyCycle(tasks); cycle != "" {
		return fail("CLIENT_ERROR", "Build %s depends on itself through depend-on", cycle)
	}
	return tasks, spec.Batch.FastFail, nil
}

// batchspec is the batch's buildspec text: inline, or read from the
// primary source as a build would read it.
func (s *Service) batchspec(ctx context.Context, b *buildBatch) (string, error) {
	spec := service.Deref(b.Batch.Source.Buildspec)
	if strings.HasPrefix(spec, "version:") || strings.Contains(spec, "\n") {
		return spec, nil
	}
	dir, err := os.MkdirTemp("", "codebuild-batchspec-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	probe := &build{Build: api.Build{Source: b.Batch.Source, SourceVersion: b.Batch.SourceVersion}}
	h := &hooks{s: s, b: probe, sc: b.scope()}
	if _, err := h.download(ctx, *b.Batch.Source, service.Deref(b.Batch.SourceVersion), dir); err != nil {
		return "", fmt.Errorf("DOWNLOAD_SOURCE: %w", err)
	}
	path, err := within(dir, cmp.Or(spec, "buildspec.yml"))
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("YAML_FILE_ERROR: the buildspec %s: %w", filepath.Base(path), err)
	}
	return string(data), nil
}

// expandBatch lists the builds a batch section asks for.
func expandBatch(batch *buildspec.Batch) []batchTask {
	task := func(t buildspec.BatchTask) batchTask {
		return batchTask{Identifier: t.Identifier, Buildspec: t.Buildspec, Image: t.Env.Image, ComputeType: t.Env.ComputeType,
			Type: t.Env.Type, Privileged: t.Env.PrivilegedMode, Variables: t.Env.Variables, DependOn: t.DependOn, IgnoreFailure: t.IgnoreFailure}
	}
	var tasks []batchTask
	switch {
	case len(batch.BuildGraph) > 0:
		tasks = service.Map(batch.BuildGraph, task)
	case len(batch.BuildList) > 0:
		tasks = service.Map(batch.BuildList, task)
	case batch.BuildMatrix != nil:
		tasks = expandMatrix(batch.BuildMatrix, task(batch.BuildMatrix.Static))
	case batch.BuildFanout != nil:
		n := batch.BuildFanout.Parallelism
		for i := range n {
			tasks = append(tasks, batchTask{Identifier: "build" + strconv.Itoa(i+1), IgnoreFailure: batch.BuildFanout.IgnoreFailure,
				System: map[string]string{"CODEBUILD_BATCH_BUILD_SHARD": strconv.Itoa(i), "CODEBUILD_BATCH_BUILD_SHARDS": strconv.Itoa(n)}})
		}
	}
	return tasks
}

// expandMatrix is every combination of a build-matrix's dynamic values on
// top of its static part, named build1, build2, ...
func expandMatrix(m *buildspec.BuildMatrix, static batchTask) []batchTask {
	combos := []batchTask{static}
	multiply := func(values []string, set func(*batchTask, string)) {
		if len(values) == 0 {
			return
		}
		var next []batchTask
		for _, c := range combos {
			for _, v := range values {
				t := c
				t.Variables = slices.Clone(c.Variables)
				set(&t, v)
				next = append(next, t)
			}
		}
		combos = next
	}
	d := m.Dynamic
	multiply(d.Buildspec, func(t *batchTask, v string) { t.Buildspec = v })
	multiply(d.Image, func(t *batchTask, v string) { t.Image = v })
	multiply(d.ComputeType, func(t *batchTask, v string) { t.ComputeType = v })
	for _, mv := range d.Variables {
		multiply(mv.Values, func(t *batchTask, v string) {
			t.Variables = append(t.Variables, buildspec.Var{Name: mv.Name, Value: v})
		})
	}
	for i := range combos {
		combos[i].Identifier = "build" + strconv.Itoa(i+1)
		combos[i].DependOn = nil
	}
	return combos
}

// dependencyCycle names an entry that depends on itself, or is "".
func dependencyCycle(tasks []batchTask) string {
	deps := map[string][]string{}
	for _, t := range tasks {
		deps[t.Identifier] = t.DependOn
	}
	const visiting, done = 1, 2
	state := map[string]int{}
	var visit func(id string) string
	visit = func(id string) string {
		switch state[id] {
		case visiting:
			return id
		case done:
			return ""
		}
		state[id] = visiting
		for _, d := range deps[id] {
			if c := visit(d); c != "" {
				return c
			}
		}
		state[id] = done
		return ""
	}
	for _, t := range tasks {
		if c := visit(t.Identifier); c != "" {
			return c
		}
	}
	return ""
}

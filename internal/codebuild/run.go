package codebuild

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	api "overcast/internal/api/codebuild"
	"overcast/internal/codebuild/runner"
	"overcast/internal/controller"
	"overcast/internal/docker"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Runner runs one build to its end; *runner.Runner is the implementation.
type Runner interface {
	Run(ctx context.Context, b runner.Build, h runner.Hooks, o runner.Observer) (runner.Result, error)
}

// errStopped is the cause a build's context is cancelled with by StopBuild.
var errStopped = errors.New("codebuild: build stopped")

// lostHost is the phase context of a build that was running when overcast
// stopped: its container went with it, as a lost build host's would.
var lostHost = runner.PhaseContext{StatusCode: "BUILD_CONTAINER_UNABLE_TO_COMPLETE",
	Message: "Build container found dead before completing the build: overcast stopped while the build ran"}

// queuedTooLong is the QUEUED phase's context of a build that waited
// past its queuedTimeoutInMinutes.
var queuedTooLong = runner.PhaseContext{StatusCode: "BUILD_TIMED_OUT", Message: "Build timed out waiting in the queue"}

// reconcileBuild drives one build: it starts a queued build when there is
// capacity, stops one StopBuild asked to stop before it ran, and fails one
// that was running when overcast stopped.
func (s *Service) reconcileBuild(ctx context.Context, key string) (controller.Result, error) {
	var b *build
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		b, _, err = getBuild(tx, key)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || err == nil && service.Deref(b.Build.BuildComplete) {
		return controller.Result{}, s.Store.Update(ctx, func(tx store.Tx) error {
			return store.DeleteKeys(tx, activeTable, []string{key})
		})
	}
	if err != nil {
		return controller.Result{}, err
	}
	s.mu.Lock()
	_, running := s.running[key]
	full := len(s.running) >= s.capacity
	s.mu.Unlock()
	switch {
	case running:
		return controller.Result{}, nil
	case b.Started:
		s.removeContainers(ctx, *b.Build.Arn)
		return controller.Result{}, s.complete(ctx, key, runner.Result{Status: statusFault}, &lostHost)
	case b.StopRequested:
		return controller.Result{}, s.complete(ctx, key, runner.Result{Status: statusStopped}, nil)
	}
	deadline := b.Build.StartTime.Add(time.Duration(service.DerefOr(b.Build.QueuedTimeoutInMinutes, defaultQueuedTimeoutMinutes)) * time.Minute)
	switch {
	case !s.Now().Before(deadline):
		return controller.Result{}, s.complete(ctx, key, runner.Result{Status: statusTimedOut}, &queuedTooLong)
	case full || s.opts.Runner == nil:
		// It waits in QUEUED: a finishing build wakes the queue, and its
		// queued timeout ends the wait.
		return controller.At(deadline), nil
	}
	return controller.Result{}, s.launch(ctx, key)
}

// launch ends the build's QUEUED phase and hands it to the runner.
func (s *Service) launch(ctx context.Context, key string) error {
	b, err := s.updateBuild(ctx, key, func(_ store.Tx, b *build) error {
		b.Started = true
		endPhase(&b.Build, runner.Phase{Type: phaseQueued, Status: statusSucceeded, End: s.Now()})
		return nil
	})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancelCause(s.ctx)
	s.mu.Lock()
	s.running[key] = cancel
	s.mu.Unlock()
	s.wg.Go(func() {
		defer cancel(nil)
		res, cause := s.run(runCtx, key, b)
		if s.ctx.Err() != nil {
			// overcast is stopping: the build stays as it stands, and the
			// next start finds it lost.
			return
		}
		if err := s.complete(context.WithoutCancel(runCtx), key, res, cause); err != nil {
			s.Logger.Error("codebuild: recording a build's end", "build", key, "err", err)
		}
		s.mu.Lock()
		delete(s.running, key)
		s.mu.Unlock()
		s.wakeQueue(context.WithoutCancel(runCtx))
	})
	return nil
}

// wakeQueue reconciles every build not yet complete: capacity was freed.
func (s *Service) wakeQueue(ctx context.Context) {
	keys, err := store.TableKeys(ctx, s.Store, activeTable)
	if err != nil {
		s.Logger.Error("codebuild: listing queued builds", "err", err)
		return
	}
	for _, k := range keys {
		s.builds.Enqueue(k)
	}
}

// removeContainers removes what a lost build left on the engine: its
// container may still run the buildspec overcast stopped watching.
func (s *Service) removeContainers(ctx context.Context, arn string) {
	if s.engine == nil {
		return
	}
	left, err := s.engine.ListContainers(ctx, map[string]string{buildLabel: arn})
	if err != nil {
		s.Logger.Warn("codebuild: listing a lost build's containers", "build", arn, "err", err)
		return
	}
	for _, c := range left {
		if err := s.engine.RemoveContainer(ctx, c.ID, docker.RemoveOptions{Force: true, Volumes: true}); err != nil {
			s.Logger.Warn("codebuild: removing a lost build's container", "build", arn, "container", c.ID, "err", err)
		}
	}
}

// stopRunning stops the build if it runs here, and says whether it did.
func (s *Service) stopRunning(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cancel, ok := s.running[key]
	if ok {
		cancel(errStopped)
	}
	return ok
}

// run runs the build and returns how it ended; a runner fault is the
// FAULT of the phase it was in, with the error as its context.
func (s *Service) run(ctx context.Context, key string, b *build) (runner.Result, *runner.PhaseContext) {
	sc := b.scope()
	uuid := strings.TrimPrefix(*b.Build.Id, *b.Build.ProjectName+":")
	work := filepath.Join(s.workDir, "builds", uuid)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return runner.Result{Status: statusFault}, &runner.PhaseContext{StatusCode: "CLIENT_ERROR", Message: err.Error()}
	}
	defer os.RemoveAll(work)
	obs := &observer{s: s, key: key, b: b}
	defer s.writeS3Log(context.WithoutCancel(ctx), b, obs)
	defer obs.flush()
	rb, err := s.runnerBuild(ctx, b, work)
	if err != nil {
		return runner.Result{Status: statusFault}, &runner.PhaseContext{StatusCode: "CLIENT_ERROR", Message: err.Error()}
	}
	if s.opts.Credentials != nil {
		defer s.opts.Credentials.Deregister(*b.Build.Arn)
	}
	res, err := s.opts.Runner.Run(ctx, rb, &hooks{s: s, b: b, sc: sc}, obs)
	if err != nil && res.Status == "" {
		return runner.Result{Status: statusFault}, &runner.PhaseContext{StatusCode: "CLIENT_ERROR", Message: err.Error()}
	}
	return res, nil
}

// runnerBuild is the build as the runner takes it.
func (s *Service) runnerBuild(ctx context.Context, b *build, work string) (runner.Build, error) {
	sc := b.scope()
	pb := b.Build
	env := pb.Environment
	rb := runner.Build{
		ID: *pb.Id, ARN: *pb.Arn, Project: *pb.ProjectName, Number: *pb.BuildNumber,
		Image: *env.Image, Privileged: service.Deref(env.PrivilegedMode),
		Timeout: time.Duration(service.DerefOr(pb.TimeoutInMinutes, defaultTimeoutMinutes)) * time.Minute,
		WorkDir: work, Artifacts: b.Targets,
		Env: service.Map(env.EnvironmentVariables, func(v api.EnvironmentVariable) runner.EnvVar {
			return runner.EnvVar{Name: *v.Name, Value: *v.Value, Type: service.DerefOr(v.Type, runner.EnvPlaintext)}
		}),
		System: map[string]string{
			"AWS_REGION":                 sc.Region,
			"AWS_DEFAULT_REGION":         sc.Region,
			"CODEBUILD_BUILD_ARN":        *pb.Arn,
			"CODEBUILD_BUILD_ID":         *pb.Id,
			"CODEBUILD_BUILD_IMAGE":      *env.Image,
			"CODEBUILD_BUILD_NUMBER":     strconv.FormatInt(*pb.BuildNumber, 10),
			"CODEBUILD_INITIATOR":        service.Deref(pb.Initiator),
			"CODEBUILD_KMS_KEY_ID":       service.Deref(pb.EncryptionKey),
			"CODEBUILD_LOG_PATH":         service.Deref(pb.Logs.StreamName),
			"CODEBUILD_START_TIME":       strconv.FormatInt(pb.StartTime.UnixMilli(), 10),
			"CODEBUILD_SOURCE_VERSION":   service.Deref(pb.SourceVersion),
			"CODEBUILD_SOURCE_REPO_URL":  service.Deref(pb.Source.Location),
			"CODEBUILD_PUBLIC_BUILD_URL": "",
			"CODEBUILD_PROJECT_ARN":      projectARN(sc, *pb.ProjectName),
		},
		SecondarySources: service.Map(pb.SecondarySources, func(src api.ProjectSource) string { return *src.SourceIdentifier }),
		Labels:           map[string]string{buildLabel: *pb.Arn},
	}
	maps.Copy(rb.System, b.System)
	for _, src := range pb.SecondarySources {
		rb.System["CODEBUILD_SOURCE_REPO_URL_"+*src.SourceIdentifier] = service.Deref(src.Location)
		rb.System["CODEBUILD_SOURCE_VERSION_"+*src.SourceIdentifier] = secondaryVersion(pb, *src.SourceIdentifier, src)
	}
	if strings.HasPrefix(b.Buildspec, "version:") || strings.Contains(b.Buildspec, "\n") {
		rb.Buildspec = b.Buildspec
	} else {
		rb.BuildspecFile = b.Buildspec
	}
	if c := pb.Cache; c != nil {
		rb.Cache = runner.Cache{Type: *c.Type, Location: service.Deref(c.Location), Modes: c.Modes}
		if *c.Type == "LOCAL" {
			rb.Cache.LocalDir = filepath.Join(s.workDir, "cache", sc.Account, sc.Region, *pb.ProjectName)
			if err := os.MkdirAll(rb.Cache.LocalDir, 0o755); err != nil {
				return rb, err
			}
		}
	}
	if s.opts.Images != nil {
		image, note, err := s.opts.Images.Resolve(ctx, *env.Image)
		if err != nil {
			return rb, err
		}
		rb.Image, rb.ImageNote = image, note
	}
	if s.opts.Credentials != nil {
		vars, network, err := s.opts.Credentials.Register(ctx, sc.Account, sc.Region, *pb.Arn, *pb.ServiceRole)
		if err != nil {
			return rb, fmt.Errorf("the service role's credentials: %w", err)
		}
		for k, v := range vars {
			rb.System[k] = v
		}
		rb.Network = network
		if from, to, host, ok := codeCommitRoute(s.gitURL(sc.Region), vars["AWS_ENDPOINT_URL"], sc.Region); ok {
			rb.GitURLs = map[string]string{from: to}
			if host != "" {
				rb.ExtraHosts = append(rb.ExtraHosts, host)
			}
		}
	}
	return rb, s.applyEnvironment(ctx, sc, &rb, pb.VpcConfig)
}

// writeS3Log writes the build's log, gzipped, to its S3 logs location as
// <location>/<build UUID>.gz, when the build's S3 logs are on.
func (s *Service) writeS3Log(ctx context.Context, b *build, o *observer) {
	l := b.Build.Logs.S3Logs
	if l == nil || service.Deref(l.Status) != "ENABLED" || s.opts.Objects == nil {
		return
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.Write(o.whole)
	gz.Close()
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(service.Deref(l.Location), "arn:aws:s3:::"), "/")
	key := strings.TrimPrefix(path.Join(prefix, strings.TrimPrefix(*b.Build.Id, *b.Build.ProjectName+":")+".gz"), "/")
	sc := b.scope()
	if err := s.opts.Objects.PutObject(ctx, sc.Account, sc.Region, bucket, key, &buf, int64(buf.Len())); err != nil {
		s.Logger.Warn("codebuild: writing the build log to S3", "build", *b.Build.Id, "err", err)
	}
}

// secondaryVersion is the version StartBuild or the project asks of a
// secondary source.
func secondaryVersion(pb api.Build, id string, src api.ProjectSource) string {
	for _, v := range pb.SecondarySourceVersions {
		if *v.SourceIdentifier == id {
			return *v.SourceVersion
		}
	}
	return ""
}

// complete records the build's end: its status, the phase it failed in
// (with cause as its context when the runner did not report it), the
// COMPLETED phase, and what the runner produced; it announces the end and
// publishes the build's metrics.
func (s *Service) complete(ctx context.Context, key string, res runner.Result, cause *runner.PhaseContext) error {
	now := s.Now()
	b, err := s.updateBuild(ctx, key, func(tx store.Tx, b *build) error {
		if service.Deref(b.Build.BuildComplete) {
			return errUnchanged
		}
		pb := &b.Build
		if open := openPhase(pb); open != nil {
			ended := runner.Phase{Type: *open.PhaseType, Status: res.Status, End: now}
			if cause != nil {
				ended.Contexts = []runner.PhaseContext{*cause}
			}
			endPhase(pb, ended)
		}
		pb.Phases = append(pb.Phases, api.BuildPhase{PhaseType: new(phaseCompleted), StartTime: &now})
		pb.CurrentPhase, pb.BuildStatus, pb.EndTime, pb.BuildComplete = new(phaseCompleted), &res.Status, &now, new(true)
		if res.ResolvedSourceVersion != "" {
			pb.ResolvedSourceVersion = &res.ResolvedSourceVersion
		}
		for _, v := range res.ExportedVariables {
			pb.ExportedEnvironmentVariables = append(pb.ExportedEnvironmentVariables, api.ExportedEnvironmentVariable{Name: &v.Name, Value: &v.Value})
		}
		for id, location := range res.ArtifactLocations {
			if id == "" {
				pb.Artifacts.Location = &location
				continue
			}
			for i := range pb.SecondaryArtifacts {
				if service.Deref(pb.SecondaryArtifacts[i].ArtifactIdentifier) == id {
					pb.SecondaryArtifacts[i].Location = &location
				}
			}
		}
		if err := store.DeleteKeys(tx, activeTable, []string{key}); err != nil {
			return err
		}
		return s.publishBuildState(tx, b)
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return err
	}
	s.Bus.Notify()
	s.putBuildMetrics(ctx, b)
	return nil
}

// errUnchanged, returned by an updateBuild change, leaves the record as
// it was.
var errUnchanged = errors.New("codebuild: nothing to change")

// updateBuild applies change to the build's record in a transaction of
// its own, and returns the record as written.
func (s *Service) updateBuild(ctx context.Context, key string, change func(tx store.Tx, b *build) error) (*build, error) {
	var b *build
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var version int64
		var err error
		if b, version, err = getBuild(tx, key); err != nil {
			return err
		}
		if err := change(tx, b); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, buildsTable, key, b, version)
		return err
	})
	return b, err
}

// openPhase is the phase the build is in: the last one, when it has not
// ended.
func openPhase(b *api.Build) *api.BuildPhase {
	if n := len(b.Phases); n > 0 && b.Phases[n-1].PhaseStatus == nil && *b.Phases[n-1].PhaseType != phaseCompleted {
		return &b.Phases[n-1]
	}
	return nil
}

// startPhase records a phase starting: it becomes the current one.
func startPhase(b *api.Build, p runner.Phase) {
	if open := openPhase(b); open != nil && *open.PhaseType == p.Type {
		return
	}
	start := p.Start
	b.Phases = append(b.Phases, api.BuildPhase{PhaseType: &p.Type, StartTime: &start})
	b.CurrentPhase = &p.Type
}

// endPhase records a phase ending, starting it first if it was never
// reported started.
func endPhase(b *api.Build, p runner.Phase) {
	if open := openPhase(b); open == nil || *open.PhaseType != p.Type {
		if p.Start.IsZero() {
			p.Start = p.End
		}
		startPhase(b, p)
	}
	ph := openPhase(b)
	end := p.End
	ph.PhaseStatus, ph.EndTime = &p.Status, &end
	ph.DurationInSeconds = new(int64(end.Sub(*ph.StartTime).Seconds()))
	ph.Contexts = service.Map(p.Contexts, func(c runner.PhaseContext) api.PhaseContext {
		return api.PhaseContext{StatusCode: &c.StatusCode, Message: &c.Message}
	})
}

// observer records what the runner reports: phases in the build's record
// (announced on the bus), the log in CloudWatch Logs.
type observer struct {
	s       *Service
	key     string
	b       *build
	partial []byte // the log's last line, until its newline comes
	whole   []byte // the whole log, for S3 logs; nil when they are off
}

var _ runner.Observer = (*observer)(nil)

func (o *observer) Phase(p runner.Phase) {
	if o.s.ctx.Err() != nil {
		// overcast is stopping: what the runner reports as it winds down
		// is not the build's doing. The build stays in the phase it was
		// in, which the next start finds lost.
		return
	}
	_, err := o.s.updateBuild(context.Background(), o.key, func(tx store.Tx, b *build) error {
		if p.Status == "" {
			startPhase(&b.Build, p)
			return nil
		}
		endPhase(&b.Build, p)
		return o.s.publishPhaseChange(tx, b, p)
	})
	if err != nil {
		o.s.Logger.Error("codebuild: recording a phase", "build", o.key, "phase", p.Type, "err", err)
		return
	}
	o.s.Bus.Notify()
}

func (o *observer) Log(p []byte) {
	if s3 := o.b.Build.Logs.S3Logs; s3 != nil && service.Deref(s3.Status) == "ENABLED" {
		o.whole = append(o.whole, p...)
	}
	o.partial = append(o.partial, p...)
	i := strings.LastIndexByte(string(o.partial), '\n')
	if i < 0 {
		return
	}
	lines := strings.Split(string(o.partial[:i]), "\n")
	o.partial = append([]byte(nil), o.partial[i+1:]...)
	o.write(lines)
}

// flush writes the log's last line, which has no newline.
func (o *observer) flush() {
	if len(o.partial) > 0 {
		o.write([]string{string(o.partial)})
		o.partial = nil
	}
}

func (o *observer) write(lines []string) {
	l := o.b.Build.Logs
	if o.s.opts.Logs == nil || l == nil || l.GroupName == nil {
		return
	}
	sc := o.b.scope()
	if err := o.s.opts.Logs.Append(context.Background(), sc.Account, sc.Region, *l.GroupName, *l.StreamName, o.s.Now(), lines); err != nil {
		o.s.Logger.Warn("codebuild: writing the build log", "build", o.key, "err", err)
	}
}

// started is the build's running set and its cancellation, kept beside
// the Service's other fields.
type started struct {
	mu       sync.Mutex
	running  map[string]context.CancelCauseFunc // by build key
	wg       sync.WaitGroup
	capacity int
	ctx      context.Context
	stop     context.CancelFunc
}

// codeCommitRoute is how a build reaches CodeCommit's clone URLs, whose
// base cloneBase names overcast as the host sees it (under .localhost,
// the container itself in a build): through its endpoint, under the name
// AWS gives CodeCommit, which the build's hosts file maps to the
// endpoint's address. The name matters: the aws CLI's credential helper
// signs only for CodeCommit's host names, and takes the region from it.
// host is that hosts entry ("name:ip"), empty when the endpoint has a name
// of its own; ok is false when the build needs no route.
func codeCommitRoute(cloneBase, endpoint, region string) (from, to, host string, ok bool) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || cloneBase == "" || strings.TrimSuffix(endpoint, "/") == cloneBase {
		return "", "", "", false
	}
	from = cloneBase + "/v1/repos/"
	ip, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return from, u.Scheme + "://" + u.Host + "/v1/repos/", "", true
	}
	name := "git-codecommit." + region + ".amazonaws.com"
	if port := u.Port(); port != "" {
		name = net.JoinHostPort(name, port)
	}
	return from, u.Scheme + "://" + name + "/v1/repos/", "git-codecommit." + region + ".amazonaws.com:" + ip.String(), true
}

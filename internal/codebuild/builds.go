package codebuild

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/codebuild"
	"overcast/internal/codebuild/runner"
	"overcast/internal/service"
	"overcast/internal/store"
)

const (
	// buildsTable holds one record per build, keyed by scope and build ID
	// (project:uuid).
	buildsTable = "codebuild.builds"
	// activeTable holds the keys of the builds not yet complete: what the
	// build controller resumes after a restart.
	activeTable = "codebuild.active"
)

// Build statuses and the phases the service itself reports.
const (
	statusInProgress = "IN_PROGRESS"
	statusSucceeded  = "SUCCEEDED"
	statusFailed     = "FAILED"
	statusFault      = "FAULT"
	statusStopped    = "STOPPED"
	statusTimedOut   = "TIMED_OUT"

	phaseSubmitted = "SUBMITTED"
	phaseQueued    = "QUEUED"
	phaseCompleted = "COMPLETED"
)

// build is a build's record: the build as BatchGetBuilds shows it, and
// what the controller needs to run it.
type build struct {
	Build   api.Build `json:"build"`
	Account string    `json:"account"`
	Region  string    `json:"region"`
	// Buildspec is the buildspec the build runs: inline YAML, or a path in
	// the primary source ("" for buildspec.yml).
	Buildspec        string `json:"buildspec,omitempty"`
	IdempotencyToken string `json:"idempotencyToken,omitempty"`
	// Started says the build was handed to the runner. A build found
	// started and not complete after a restart lost its host.
	Started bool `json:"started,omitempty"`
	// StopRequested is StopBuild's request, for a build not running here.
	StopRequested bool `json:"stopRequested,omitempty"`
	// Targets are the artifacts the build uploads, primary first, as the
	// project and the overrides configure them.
	Targets []runner.ArtifactTarget `json:"targets,omitempty"`
	// System are CODEBUILD_* variables its origin adds: a batch's
	// CODEBUILD_BATCH_BUILD_IDENTIFIER, a webhook's CODEBUILD_WEBHOOK_*.
	System map[string]string `json:"system,omitempty"`
}

func (b *build) scope() scope { return scope{Account: b.Account, Region: b.Region} }

func buildARN(sc scope, id string) string { return sc.ARN("codebuild", "build/"+id) }

// buildID is the ID an ID or an ARN names.
func buildID(idOrARN string) string { return arnResource(idOrARN, ":build/") }

func getBuild(tx store.Tx, key string) (*build, int64, error) {
	var b build
	version, err := store.GetJSON(tx, buildsTable, key, &b)
	return &b, version, err
}

func (s *Service) StartBuild(ctx context.Context, in *api.StartBuildInput) (*api.StartBuildOutput, error) {
	return s.startBuild(ctx, in, buildOrigin{})
}

// startBuild starts a build of StartBuild's, a batch's or a webhook's:
// origin says what the latter two add.
func (s *Service) startBuild(ctx context.Context, in *api.StartBuildInput, origin buildOrigin) (*api.StartBuildOutput, error) {
	sc := overcast.ScopeOf(ctx)
	name := projectName(*in.ProjectName)
	now := s.Now()
	var out api.Build
	var key string
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		p, version, err := getProject(tx, sc, name)
		if err != nil {
			return err
		}
		if token := service.Deref(in.IdempotencyToken); token != "" {
			if prior, err := s.buildWithToken(tx, sc, name, token); prior != nil || err != nil {
				if prior != nil {
					out, key = prior.Build, ""
				}
				return err
			}
		}
		if limit := service.Deref(p.Project.ConcurrentBuildLimit); limit > 0 {
			running, err := s.activeBuilds(tx, sc, name)
			if err != nil {
				return err
			}
			if running >= int(limit) {
				return limitExceeded("Cannot have more than %d active builds for the project %s", limit, name)
			}
		}
		p.LastBuildNumber++
		b, err := newBuild(sc, p, in, s.IDs.UUID(), initiator(ctx), now)
		if err != nil {
			return err
		}
		origin.apply(b)
		if _, err := store.PutJSON(tx, projectsTable, sc.Key(name), p, version); err != nil {
			return err
		}
		key = sc.Key(*b.Build.Id)
		if _, err := store.PutJSON(tx, buildsTable, key, b, 0); err != nil {
			return err
		}
		if _, err := tx.Put(activeTable, key, nil, 0); err != nil {
			return err
		}
		out = b.Build
		return s.publishBuildState(tx, b)
	})
	if err != nil {
		return nil, err
	}
	s.Bus.Notify()
	if key != "" {
		s.builds.Enqueue(key)
	}
	return &api.StartBuildOutput{Build: &out}, nil
}

// buildWithToken is the project's build StartBuild made with the
// idempotency token, if any: a retried request gets the same build.
func (s *Service) buildWithToken(tx store.Tx, sc scope, project, token string) (*build, error) {
	var found *build
	err := store.ScanJSON(tx, buildsTable, store.ScanOptions{Prefix: sc.Key(project + ":")}, func(_ string, b build, _ int64) error {
		if b.IdempotencyToken == token {
			found = &b
			return store.ErrStop
		}
		return nil
	})
	return found, err
}

// activeBuilds counts the project's builds not yet complete.
func (s *Service) activeBuilds(tx store.Tx, sc scope, project string) (int, error) {
	return tx.Count(activeTable, sc.Key(project+":"))
}

// initiator is who started a build, as CODEBUILD_INITIATOR and the
// build's initiator say: the user or role session name.
func initiator(ctx context.Context) string {
	c := overcast.CallerFrom(ctx)
	if a, ok := overcast.ParseARN(c.ARN); ok {
		parts := strings.Split(a.Resource, "/")
		return parts[len(parts)-1]
	}
	return "root"
}

func (s *Service) StopBuild(ctx context.Context, in *api.StopBuildInput) (*api.StopBuildOutput, error) {
	sc := overcast.ScopeOf(ctx)
	key := sc.Key(buildID(*in.Id))
	b, err := s.updateBuild(ctx, key, func(_ store.Tx, b *build) error {
		if service.Deref(b.Build.BuildComplete) {
			return errUnchanged
		}
		b.StopRequested = true
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, notFound("Build cannot be found: %s", buildID(*in.Id))
	case err != nil && !errors.Is(err, errUnchanged):
		return nil, err
	}
	out := b.Build
	if s.stopRunning(key) {
		// A running build answers as it stands: the runner stops it.
		out.BuildStatus = new(statusInProgress)
	}
	s.builds.Enqueue(key)
	return &api.StopBuildOutput{Build: &out}, nil
}

func (s *Service) RetryBuild(ctx context.Context, in *api.RetryBuildInput) (*api.RetryBuildOutput, error) {
	sc := overcast.ScopeOf(ctx)
	id := buildID(service.Deref(in.Id))
	var prior build
	err := s.Store.View(ctx, func(tx store.Tx) error {
		b, _, err := getBuild(tx, sc.Key(id))
		if errors.Is(err, store.ErrNotFound) {
			return notFound("Build cannot be found: %s", id)
		}
		prior = *b
		return err
	})
	if err != nil {
		return nil, err
	}
	// A retry runs the build again as it was configured, overrides and all.
	pb := prior.Build
	vars := pb.Environment.EnvironmentVariables
	retry := &api.StartBuildInput{ProjectName: pb.ProjectName, SourceVersion: pb.SourceVersion,
		SourceTypeOverride: pb.Source.Type, SourceLocationOverride: pb.Source.Location, SecondarySourcesOverride: pb.SecondarySources,
		SecondarySourcesVersionOverride: pb.SecondarySourceVersions, EnvironmentVariablesOverride: vars,
		ImageOverride: pb.Environment.Image, PrivilegedModeOverride: pb.Environment.PrivilegedMode,
		ComputeTypeOverride: pb.Environment.ComputeType, EnvironmentTypeOverride: pb.Environment.Type,
		TimeoutInMinutesOverride: pb.TimeoutInMinutes, QueuedTimeoutInMinutesOverride: pb.QueuedTimeoutInMinutes,
		CacheOverride: pb.Cache, ServiceRoleOverride: pb.ServiceRole, LogsConfigOverride: logsConfigOf(pb.Logs),
		IdempotencyToken: in.IdempotencyToken, BuildspecOverride: &prior.Buildspec}
	if prior.Buildspec == "" {
		retry.BuildspecOverride = nil
	}
	// The retry keeps the variables its origin gave it (a batch entry's
	// identifier and shard, a webhook's event), as CodeBuild does.
	out, err := s.startBuild(ctx, retry, buildOrigin{System: prior.System})
	if err != nil {
		return nil, err
	}
	return &api.RetryBuildOutput{Build: out.Build}, nil
}

func logsConfigOf(l *api.LogsLocation) *api.LogsConfig {
	if l == nil {
		return nil
	}
	return &api.LogsConfig{CloudWatchLogs: l.CloudWatchLogs, S3Logs: l.S3Logs}
}

func (s *Service) BatchGetBuilds(ctx context.Context, in *api.BatchGetBuildsInput) (*api.BatchGetBuildsOutput, error) {
	sc := overcast.ScopeOf(ctx)
	found, missing, err := batchGet(ctx, s.Store, in.Ids, func(tx store.Tx, id string) (api.Build, error) {
		b, _, err := getBuild(tx, sc.Key(buildID(id)))
		if errors.Is(err, store.ErrNotFound) {
			return api.Build{}, notFound("Build cannot be found: %s", id)
		}
		if err != nil {
			return api.Build{}, err
		}
		return b.Build, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.BatchGetBuildsOutput{Builds: found, BuildsNotFound: missing}, nil
}

func (s *Service) ListBuilds(ctx context.Context, in *api.ListBuildsInput) (*api.ListBuildsOutput, error) {
	ids, next, err := s.listBuilds(ctx, "", in.SortOrder, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &api.ListBuildsOutput{Ids: ids, NextToken: next}, nil
}

func (s *Service) ListBuildsForProject(ctx context.Context, in *api.ListBuildsForProjectInput) (*api.ListBuildsForProjectOutput, error) {
	name := projectName(*in.ProjectName)
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, _, err := getProject(tx, overcast.ScopeOf(ctx), name)
		return err
	})
	if err != nil {
		return nil, err
	}
	ids, next, err := s.listBuilds(ctx, name+":", in.SortOrder, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &api.ListBuildsForProjectOutput{Ids: ids, NextToken: next}, nil
}

// listBuilds lists the IDs of the builds whose ID starts with prefix,
// newest first unless order is ASCENDING.
func (s *Service) listBuilds(ctx context.Context, prefix string, order *string, token *string) ([]string, *string, error) {
	sc := overcast.ScopeOf(ctx)
	type started struct {
		id string
		at time.Time
	}
	var all []started
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, buildsTable, store.ScanOptions{Prefix: sc.Key(prefix)}, func(_ string, b build, _ int64) error {
			all = append(all, started{*b.Build.Id, *b.Build.StartTime})
			return nil
		})
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(all, func(a, b started) int {
		c := cmp.Or(a.at.Compare(b.at), cmp.Compare(a.id, b.id))
		if service.DerefOr(order, "DESCENDING") == "DESCENDING" {
			return -c
		}
		return c
	})
	return pageOf(service.Map(all, func(b started) string { return b.id }), token, listPageSize)
}

func (s *Service) BatchDeleteBuilds(ctx context.Context, in *api.BatchDeleteBuildsInput) (*api.BatchDeleteBuildsOutput, error) {
	sc := overcast.ScopeOf(ctx)
	out := &api.BatchDeleteBuildsOutput{BuildsDeleted: api.BuildIds{}, BuildsNotDeleted: api.BuildsNotDeleted{}}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		out.BuildsDeleted, out.BuildsNotDeleted = api.BuildIds{}, api.BuildsNotDeleted{}
		for _, id := range service.Distinct(in.Ids) {
			key := sc.Key(buildID(id))
			b, _, err := getBuild(tx, key)
			switch {
			case errors.Is(err, store.ErrNotFound):
				out.BuildsNotDeleted = append(out.BuildsNotDeleted, api.BuildNotDeleted{Id: &id, StatusCode: new("BUILD_NOT_FOUND")})
				continue
			case err != nil:
				return err
			case !service.Deref(b.Build.BuildComplete):
				out.BuildsNotDeleted = append(out.BuildsNotDeleted, api.BuildNotDeleted{Id: &id, StatusCode: new("BUILD_IN_PROGRESS")})
				continue
			}
			if err := tx.Delete(buildsTable, key, store.AnyVersion); err != nil {
				return err
			}
			out.BuildsDeleted = append(out.BuildsDeleted, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// newBuild is the build StartBuild makes of the project and its
// overrides, SUBMITTED and QUEUED.
func newBuild(sc scope, p *project, in *api.StartBuildInput, uuid, initiator string, now time.Time) (*build, error) {
	pr := p.Project
	id := *pr.Name + ":" + uuid
	src := *pr.Source
	replace(&src.Type, in.SourceTypeOverride)
	replace(&src.Location, in.SourceLocationOverride)
	replace(&src.Buildspec, in.BuildspecOverride)
	replace(&src.GitCloneDepth, in.GitCloneDepthOverride)
	replace(&src.Auth, in.SourceAuthOverride)
	replace(&src.InsecureSsl, in.InsecureSslOverride)
	if err := validateSource(&src, false); err != nil {
		return nil, err
	}
	env := *pr.Environment
	replace(&env.Image, in.ImageOverride)
	replace(&env.Type, in.EnvironmentTypeOverride)
	replace(&env.ComputeType, in.ComputeTypeOverride)
	replace(&env.PrivilegedMode, in.PrivilegedModeOverride)
	replace(&env.ImagePullCredentialsType, in.ImagePullCredentialsTypeOverride)
	replace(&env.Certificate, in.CertificateOverride)
	env.EnvironmentVariables = overrideVariables(pr.Environment.EnvironmentVariables, in.EnvironmentVariablesOverride)
	checked, err := projectEnvironment(&env)
	if err != nil {
		return nil, err
	}
	artifacts := pr.Artifacts
	if in.ArtifactsOverride != nil {
		if artifacts, err = projectArtifacts(in.ArtifactsOverride, false); err != nil {
			return nil, err
		}
	}
	secondaryArtifacts := pr.SecondaryArtifacts
	if in.SecondaryArtifactsOverride != nil {
		secondaryArtifacts = api.ProjectArtifactsList{}
		for _, a := range in.SecondaryArtifactsOverride {
			pa, err := projectArtifacts(&a, true)
			if err != nil {
				return nil, err
			}
			secondaryArtifacts = append(secondaryArtifacts, *pa)
		}
	}
	cache := pr.Cache
	if in.CacheOverride != nil {
		if cache, err = projectCache(in.CacheOverride); err != nil {
			return nil, err
		}
	}
	logs := pr.LogsConfig
	if in.LogsConfigOverride != nil {
		if logs, err = projectLogs(in.LogsConfigOverride); err != nil {
			return nil, err
		}
	}
	secondarySources := pr.SecondarySources
	if in.SecondarySourcesOverride != nil {
		secondarySources = in.SecondarySourcesOverride
	}
	secondaryVersions := pr.SecondarySourceVersions
	if in.SecondarySourcesVersionOverride != nil {
		secondaryVersions = in.SecondarySourcesVersionOverride
	}
	start := now
	b := api.Build{
		Id: &id, Arn: new(buildARN(sc, id)), BuildNumber: new(p.LastBuildNumber), StartTime: &start,
		CurrentPhase: new(phaseQueued), BuildStatus: new(statusInProgress),
		SourceVersion: cmp.Or(in.SourceVersion, pr.SourceVersion), ProjectName: pr.Name,
		Phases: api.BuildPhases{
			{PhaseType: new(phaseSubmitted), PhaseStatus: new(statusSucceeded), StartTime: &start, EndTime: &start, DurationInSeconds: new(int64(0))},
			{PhaseType: new(phaseQueued), StartTime: &start},
		},
		Source: &src, SecondarySources: nonNil(secondarySources), SecondarySourceVersions: nonNil(secondaryVersions),
		Artifacts: &api.BuildArtifacts{}, SecondaryArtifacts: api.BuildArtifactsList{},
		Cache: cache, Environment: checked, ServiceRole: new(roleARN(sc, cmp.Or(service.Deref(in.ServiceRoleOverride), *pr.ServiceRole))),
		Logs:             logsLocation(sc, *pr.Name, uuid, logs),
		TimeoutInMinutes: cmp.Or(in.TimeoutInMinutesOverride, pr.TimeoutInMinutes), QueuedTimeoutInMinutes: cmp.Or(in.QueuedTimeoutInMinutesOverride, pr.QueuedTimeoutInMinutes),
		BuildComplete: new(false), Initiator: &initiator, VpcConfig: pr.VpcConfig,
		EncryptionKey:                cmp.Or(in.EncryptionKeyOverride, pr.EncryptionKey),
		ExportedEnvironmentVariables: api.ExportedEnvironmentVariables{}, ReportArns: api.BuildReportArns{},
		FileSystemLocations: pr.FileSystemLocations,
	}
	if artifacts != nil && *artifacts.Type == "S3" {
		b.Artifacts.Location = new("arn:aws:s3:::" + *artifacts.Location)
		b.Artifacts.OverrideArtifactName = artifacts.OverrideArtifactName
		b.Artifacts.EncryptionDisabled = artifacts.EncryptionDisabled
	}
	for _, a := range secondaryArtifacts {
		ba := api.BuildArtifacts{ArtifactIdentifier: a.ArtifactIdentifier, OverrideArtifactName: a.OverrideArtifactName, EncryptionDisabled: a.EncryptionDisabled}
		if *a.Type == "S3" {
			ba.Location = new("arn:aws:s3:::" + *a.Location)
		}
		b.SecondaryArtifacts = append(b.SecondaryArtifacts, ba)
	}
	rec := &build{Build: b, Account: sc.Account, Region: sc.Region, Buildspec: service.Deref(src.Buildspec),
		IdempotencyToken: service.Deref(in.IdempotencyToken)}
	rec.Targets = artifactTargets(artifacts, secondaryArtifacts)
	return rec, nil
}

// overrideVariables is the project's variables with StartBuild's
// overrides: an override replaces the variable of its name.
func overrideVariables(project, override api.EnvironmentVariables) api.EnvironmentVariables {
	out := slices.Clone(project)
	for _, o := range override {
		i := slices.IndexFunc(out, func(v api.EnvironmentVariable) bool { return *v.Name == *o.Name })
		if i >= 0 {
			out[i] = o
		} else {
			out = append(out, o)
		}
	}
	return out
}

// logsLocation is where the build's log goes: the configured CloudWatch
// Logs group and stream (default /aws/codebuild/<project>, the build's
// UUID), unless disabled.
func logsLocation(sc scope, project, uuid string, cfg *api.LogsConfig) *api.LogsLocation {
	l := &api.LogsLocation{CloudWatchLogs: cfg.CloudWatchLogs, S3Logs: cfg.S3Logs}
	if cw := cfg.CloudWatchLogs; cw != nil && *cw.Status == "ENABLED" {
		group := service.DerefOr(cw.GroupName, "/aws/codebuild/"+project)
		stream := uuid
		if cw.StreamName != nil {
			stream = *cw.StreamName + "/" + uuid
		}
		l.GroupName, l.StreamName = &group, &stream
		l.CloudWatchLogsArn = new(sc.ARN("logs", "log-group:"+group+":log-stream:"+stream))
		l.DeepLink = new("https://console.aws.amazon.com/cloudwatch/home?region=" + sc.Region + "#logEvent:group=" +
			group + ";stream=" + stream)
	}
	return l
}

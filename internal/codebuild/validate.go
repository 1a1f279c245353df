package codebuild

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/codebuild"
	"overcast/internal/service"
)

// identifierPattern is what a secondary source's or artifact's identifier
// must match: it names CODEBUILD_SRC_DIR_<id> and the buildspec's
// secondary-artifacts keys.
var identifierPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,127}$`)

// locatedSources are the source types whose location says where the
// source is: a repository URL, a bucket and key.
var locatedSources = []string{"CODECOMMIT", "S3", "GITHUB", "GITHUB_ENTERPRISE", "BITBUCKET", "GITLAB", "GITLAB_SELF_MANAGED"}

// newProject is the project a CreateProject request makes, validated as
// AWS validates it and with the defaults AWS fills in.
func newProject(sc scope, in *api.CreateProjectInput, created, modified time.Time) (api.Project, error) {
	if in.Source == nil || in.Artifacts == nil || in.Environment == nil || in.ServiceRole == nil {
		return api.Project{}, invalidInput("Invalid input: source, artifacts, environment and serviceRole are required")
	}
	if err := validateSource(in.Source, false); err != nil {
		return api.Project{}, err
	}
	for i := range in.SecondarySources {
		if err := validateSource(&in.SecondarySources[i], true); err != nil {
			return api.Project{}, err
		}
	}
	if (*in.Source.Type == "CODEPIPELINE") != (*in.Artifacts.Type == "CODEPIPELINE") {
		return api.Project{}, invalidInput("Invalid input: when using CodePipeline both sourceType, and artifactType must be set to: CODEPIPELINE")
	}
	artifacts, err := projectArtifacts(in.Artifacts, false)
	if err != nil {
		return api.Project{}, err
	}
	secondary := api.ProjectArtifactsList{}
	for _, a := range in.SecondaryArtifacts {
		pa, err := projectArtifacts(&a, true)
		if err != nil {
			return api.Project{}, err
		}
		secondary = append(secondary, *pa)
	}
	env, err := projectEnvironment(in.Environment)
	if err != nil {
		return api.Project{}, err
	}
	cache, err := projectCache(in.Cache)
	if err != nil {
		return api.Project{}, err
	}
	logs, err := projectLogs(in.LogsConfig)
	if err != nil {
		return api.Project{}, err
	}
	if in.ConcurrentBuildLimit != nil && *in.ConcurrentBuildLimit < 1 {
		return api.Project{}, invalidInput("Invalid input: concurrentBuildLimit must be at least 1")
	}
	if err := validateTags(in.Tags); err != nil {
		return api.Project{}, err
	}
	name := *in.Name
	p := api.Project{
		Name:                    &name,
		Arn:                     new(projectARN(sc, name)),
		Description:             in.Description,
		Source:                  in.Source,
		SecondarySources:        nonNil(in.SecondarySources),
		SourceVersion:           in.SourceVersion,
		SecondarySourceVersions: nonNil(in.SecondarySourceVersions),
		Artifacts:               artifacts,
		SecondaryArtifacts:      secondary,
		Cache:                   cache,
		Environment:             env,
		ServiceRole:             new(roleARN(sc, *in.ServiceRole)),
		TimeoutInMinutes:        new(service.DerefOr(in.TimeoutInMinutes, defaultTimeoutMinutes)),
		QueuedTimeoutInMinutes:  new(service.DerefOr(in.QueuedTimeoutInMinutes, defaultQueuedTimeoutMinutes)),
		EncryptionKey:           new(service.DerefOr(in.EncryptionKey, sc.ARN("kms", "alias/aws/s3"))),
		Tags:                    nonNil(in.Tags),
		Created:                 &created,
		LastModified:            &modified,
		VpcConfig:               in.VpcConfig,
		Badge:                   &api.ProjectBadge{BadgeEnabled: new(service.Deref(in.BadgeEnabled))},
		LogsConfig:              logs,
		FileSystemLocations:     nonNil(in.FileSystemLocations),
		BuildBatchConfig:        in.BuildBatchConfig,
		ConcurrentBuildLimit:    in.ConcurrentBuildLimit,
		ProjectVisibility:       new("PRIVATE"),
		AutoRetryLimit:          in.AutoRetryLimit,
	}
	if *p.Badge.BadgeEnabled {
		p.Badge.BadgeRequestUrl = new("https://codebuild." + sc.Region + ".amazonaws.com/badges?uuid=" + overcast.NewARN("codebuild", sc.Region, sc.Account, name).String() + "&branch=main")
	}
	return p, nil
}

func nonNil[S ~[]E, E any](s S) S {
	if s == nil {
		return S{}
	}
	return s
}

// roleARN is the service role as an ARN: CodeBuild takes a role name too,
// meaning the role of that name in the caller's account.
func roleARN(sc scope, role string) string {
	if strings.HasPrefix(role, "arn:") {
		return role
	}
	return overcast.NewARN("iam", "", sc.Account, "role/"+role).String()
}

func validateSource(src *api.ProjectSource, secondary bool) error {
	typ := *src.Type
	location := service.Deref(src.Location)
	switch {
	case slices.Contains(locatedSources, typ) && location == "":
		return invalidInput("Project source location is required")
	case typ == "NO_SOURCE" && location != "":
		return invalidInput("Invalid input: location must not be specified for source type NO_SOURCE")
	case typ == "NO_SOURCE" && service.Deref(src.Buildspec) == "" && !secondary:
		return invalidInput("Invalid input: buildspec must be specified for source type NO_SOURCE")
	case typ == "S3" && !strings.Contains(strings.Trim(location, "/"), "/") && !strings.HasSuffix(location, "/"):
		// A bare bucket is not an object: AWS wants bucket/key (a zip) or
		// bucket/prefix/ (a folder).
		return invalidInput("Invalid source location: %s", location)
	case secondary && !identifierPattern.MatchString(service.Deref(src.SourceIdentifier)):
		return invalidInput("Invalid input: identifier must contain only alphanumeric characters and underscores and be less than 128 characters in length")
	case secondary && typ == "CODEPIPELINE" && location == "":
		return nil
	}
	return nil
}

func projectArtifacts(a *api.ProjectArtifacts, secondary bool) (*api.ProjectArtifacts, error) {
	out := *a
	switch *a.Type {
	case "S3":
		if service.Deref(a.Location) == "" {
			return nil, invalidInput("Invalid input: artifact location is required for artifact type S3")
		}
		if strings.Contains(*a.Location, "/") {
			return nil, invalidInput("Invalid input: artifact location must be a bucket name: %s", *a.Location)
		}
		out.NamespaceType = new(service.DerefOr(a.NamespaceType, "NONE"))
		out.Packaging = new(service.DerefOr(a.Packaging, "NONE"))
		out.Name = new(service.DerefOr(a.Name, ""))
		out.Path = new(service.DerefOr(a.Path, ""))
		out.OverrideArtifactName = new(service.Deref(a.OverrideArtifactName))
		out.EncryptionDisabled = new(service.Deref(a.EncryptionDisabled))
	case "NO_ARTIFACTS", "CODEPIPELINE":
		if service.Deref(a.Location) != "" {
			return nil, invalidInput("Invalid input: artifact location must not be specified for artifact type %s", *a.Type)
		}
	}
	if secondary && !identifierPattern.MatchString(service.Deref(a.ArtifactIdentifier)) {
		return nil, invalidInput("Invalid input: identifier must contain only alphanumeric characters and underscores and be less than 128 characters in length")
	}
	return &out, nil
}

func projectEnvironment(e *api.ProjectEnvironment) (*api.ProjectEnvironment, error) {
	out := *e
	if strings.TrimSpace(*e.Image) == "" {
		return nil, invalidInput("Invalid input: image must be specified")
	}
	if strings.HasPrefix(*e.Type, "WINDOWS") || *e.Type == "MAC_ARM" {
		// Builds run in Linux containers on this machine's engine.
		return nil, invalidInput("Invalid input: environment type %s is not supported", *e.Type)
	}
	if strings.HasPrefix(*e.ComputeType, "BUILD_LAMBDA") != strings.HasSuffix(*e.Type, "LAMBDA_CONTAINER") {
		return nil, invalidInput("Invalid input: environment type %s does not support compute type %s", *e.Type, *e.ComputeType)
	}
	for _, v := range e.EnvironmentVariables {
		if *v.Name == "" || strings.HasPrefix(*v.Name, "CODEBUILD_") {
			return nil, invalidInput("Invalid input: environment variable name %q is reserved or empty", *v.Name)
		}
	}
	out.EnvironmentVariables = nonNil(e.EnvironmentVariables)
	for i := range out.EnvironmentVariables {
		v := &out.EnvironmentVariables[i]
		v.Type = new(service.DerefOr(v.Type, "PLAINTEXT"))
	}
	out.PrivilegedMode = new(service.Deref(e.PrivilegedMode))
	out.ImagePullCredentialsType = new(service.DerefOr(e.ImagePullCredentialsType, "CODEBUILD"))
	return &out, nil
}

func projectCache(c *api.ProjectCache) (*api.ProjectCache, error) {
	if c == nil {
		return &api.ProjectCache{Type: new("NO_CACHE")}, nil
	}
	out := *c
	switch *c.Type {
	case "S3":
		if service.Deref(c.Location) == "" {
			return nil, invalidInput("Invalid input: cache location is required for cache type S3")
		}
	case "LOCAL":
		if len(c.Modes) == 0 {
			return nil, invalidInput("Invalid input: cache modes are required for cache type LOCAL")
		}
	}
	return &out, nil
}

func projectLogs(l *api.LogsConfig) (*api.LogsConfig, error) {
	out := api.LogsConfig{
		CloudWatchLogs: &api.CloudWatchLogsConfig{Status: new("ENABLED")},
		S3Logs:         &api.S3LogsConfig{Status: new("DISABLED"), EncryptionDisabled: new(false)},
	}
	if l == nil {
		return &out, nil
	}
	if l.CloudWatchLogs != nil {
		out.CloudWatchLogs = l.CloudWatchLogs
	}
	if l.S3Logs != nil {
		out.S3Logs = l.S3Logs
		if *l.S3Logs.Status == "ENABLED" && service.Deref(l.S3Logs.Location) == "" {
			return nil, invalidInput("Invalid input: S3 logs location is required when S3 logs are enabled")
		}
	}
	return &out, nil
}

// validateTags holds tags to AWS's rules: the model bounds their number;
// keys are unique and not reserved.
func validateTags(tags api.TagList) error {
	seen := map[string]bool{}
	for _, t := range tags {
		k := service.Deref(t.Key)
		if k == "" || seen[k] {
			return invalidInput("Invalid tags: duplicate or empty key %q", k)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return invalidInput("Invalid tags: the aws: prefix is reserved: %s", k)
		}
		seen[k] = true
	}
	return nil
}

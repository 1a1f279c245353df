// Package runner runs one CodeBuild build: it provisions a container from the
// build's image, downloads the sources, reads the buildspec and runs its phases
// with CodeBuild's shell model, then collects artifacts, cache paths and report
// files. It reports the phases PROVISIONING through FINALIZING; the service
// reports SUBMITTED, QUEUED and COMPLETED itself.
//
// Everything a build needs from outside (sources, parameters, secrets, artifact
// and cache storage, reports) comes through Hooks, so the same runner serves the
// CodeBuild API and `overcast codebuild run`.
package runner

import (
	"context"
	"time"

	"overcast/internal/docker"
)

// Phase types, in the order a build goes through them.
const (
	PhaseProvisioning    = "PROVISIONING"
	PhaseDownloadSource  = "DOWNLOAD_SOURCE"
	PhaseInstall         = "INSTALL"
	PhasePreBuild        = "PRE_BUILD"
	PhaseBuild           = "BUILD"
	PhasePostBuild       = "POST_BUILD"
	PhaseUploadArtifacts = "UPLOAD_ARTIFACTS"
	PhaseFinalizing      = "FINALIZING"
)

// Phase and build statuses.
const (
	StatusInProgress = "IN_PROGRESS"
	StatusSucceeded  = "SUCCEEDED"
	StatusFailed     = "FAILED"
	StatusFault      = "FAULT"
	StatusTimedOut   = "TIMED_OUT"
	StatusStopped    = "STOPPED"
)

// Environment variable types, as in the CodeBuild API.
const (
	EnvPlaintext      = "PLAINTEXT"
	EnvParameterStore = "PARAMETER_STORE"
	EnvSecretsManager = "SECRETS_MANAGER"
)

// Build is everything the runner needs to run one build. The service fills it
// from the project and the StartBuild overrides.
type Build struct {
	ID      string // project:uuid
	ARN     string
	Project string
	Number  int64

	// Image is an image the engine can resolve. ImageNote, when set, is written
	// to the log as a [Container] line (e.g. which local image a curated AWS
	// image name was mapped to).
	Image     string
	ImageNote string
	// Privileged is the project's privilegedMode: the build gets a Docker
	// engine, the host's, through what privileged.Apply adds to Mounts or
	// System. The container itself runs without extra kernel privileges,
	// which docker build and push through the engine do not need (and
	// which engines in VMs may refuse).
	Privileged bool

	// Buildspec is inline YAML; when empty the runner reads BuildspecFile
	// (default buildspec.yml) relative to the primary source directory.
	Buildspec     string
	BuildspecFile string

	// Env holds the project and StartBuild variables with precedence already
	// applied (StartBuild > project); they win over the buildspec's env.
	Env []EnvVar
	// System holds the CODEBUILD_* variables the service knows (BUILD_ARN,
	// BUILD_ID, BUILD_NUMBER, INITIATOR, START_TIME, SOURCE_VERSION, ...),
	// AWS_REGION, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL and the container
	// credentials variables. The runner adds the ones it owns
	// (CODEBUILD_SRC_DIR*, CODEBUILD_BUILD_SUCCEEDING,
	// CODEBUILD_RESOLVED_SOURCE_VERSION, CODEBUILD_BUILD_IMAGE, ...).
	System map[string]string

	// Timeout bounds the whole build from PROVISIONING; zero means no limit.
	Timeout time.Duration

	// Container placement; cb-env fills these for privileged mode and VPC.
	Network    string            // engine network to attach to; "" is the default bridge
	Labels     map[string]string // extra container labels
	Mounts     []Mount           // extra bind mounts (e.g. a docker socket)
	ExtraHosts []string          // host:ip entries
	// AttachNetwork, when set, is called once the container has started,
	// with its ID: a vpcConfig build's link to its VPC (vpc.Attacher).
	// detach is called when the build ends; an error fails PROVISIONING.
	AttachNetwork func(ctx context.Context, containerID string) (detach func(), err error)

	// WorkDir is a host directory for this build (sources, tmp, artifacts),
	// created and removed by the caller. The runner bind-mounts it at
	// /codebuild/output.
	WorkDir string

	// Artifacts are the artifact targets: the primary one has Identifier "".
	Artifacts []ArtifactTarget
	Cache     Cache

	// GitURLs rewrite the bases of URLs that git in the build would not
	// reach as they are (CodeCommit's clone URLs name overcast as the host
	// sees it), to the same repositories as the build reaches them: git's
	// url.<to>.insteadOf <from>.
	GitURLs map[string]string

	// SecondarySources are the identifiers of the secondary sources; each gets
	// a directory and CODEBUILD_SRC_DIR_<id>.
	SecondarySources []string
}

// EnvVar is one environment variable of the project or StartBuild.
type EnvVar struct {
	Name  string
	Value string
	Type  string // PLAINTEXT (default), PARAMETER_STORE or SECRETS_MANAGER
}

// Mount is a host path bind-mounted into the build container.
type Mount struct {
	Source, Target string
	ReadOnly       bool
}

// ArtifactTarget is one artifact the project (or StartBuild) asks for.
type ArtifactTarget struct {
	Identifier string // "" for the primary artifact, else artifactIdentifier
	Type       string // S3, NO_ARTIFACTS, CODEPIPELINE
	Packaging  string // ZIP or NONE
	Name       string // overrides the buildspec's name when OverrideName is false
	// OverrideArtifactName lets the buildspec's artifacts.name win.
	OverrideArtifactName bool
	Location             string // bucket
	Path                 string
	NamespaceType        string // NONE or BUILD_ID
	EncryptionDisabled   bool
}

// Cache is the project's cache configuration.
type Cache struct {
	Type     string   // NO_CACHE, LOCAL or S3
	Location string   // bucket[/prefix] for S3
	Modes    []string // LOCAL_SOURCE_CACHE, LOCAL_DOCKER_LAYER_CACHE, LOCAL_CUSTOM_CACHE
	// LocalDir is a host directory kept per project for LOCAL_CUSTOM_CACHE;
	// the caller chooses and keeps it.
	LocalDir string
}

// Sources is what DownloadSource reports.
type Sources struct {
	// ResolvedVersions maps "" (primary) and secondary source identifiers to
	// the commit or object version downloaded; it becomes
	// CODEBUILD_RESOLVED_SOURCE_VERSION (primary) and
	// CODEBUILD_RESOLVED_SOURCE_VERSION_<id> is not set by AWS, so only the
	// primary one is exported.
	ResolvedVersions map[string]string
}

// SecretRef is a secrets-manager reference from the buildspec or a
// SECRETS_MANAGER variable: secret-id:json-key:version-stage:version-id.
type SecretRef struct {
	SecretID, JSONKey, VersionStage, VersionID string
}

// Artifact is one packaged artifact ready for upload.
type Artifact struct {
	Target ArtifactTarget
	// Name is the resolved artifact name (buildspec artifacts.name,
	// shell-expanded, or the target's Name).
	Name string
	// Path is a zip file (Packaging ZIP) or a directory (NONE) on the host.
	Path string
	// S3Prefix is the buildspec's s3-prefix for this artifact.
	S3Prefix string
}

// ReportFiles are the files one buildspec report group matched.
type ReportFiles struct {
	Group      string   // the reports key: a report group name or ARN
	FileFormat string   // JUNITXML, CUCUMBERJSON, ..., CLOVERXML, COBERTURAXML, ...
	Files      []string // host paths
}

// Hooks is what a build needs from outside: the service implements it against
// AWS services, `overcast codebuild run` against the local machine.
type Hooks interface {
	// DownloadSource fills dirs: "" maps to the primary source directory, each
	// secondary source identifier to its directory (all already created).
	// It runs while the container is provisioned, on a goroutine of its
	// own; its ctx ends if the build ends first, and Run returns only after
	// it has.
	DownloadSource(ctx context.Context, dirs map[string]string) (Sources, error)
	Parameter(ctx context.Context, name string) (string, error)
	Secret(ctx context.Context, ref SecretRef) (string, error)
	// UploadArtifact stores a packaged artifact and returns its location
	// (e.g. arn:aws:s3:::bucket/path/name).
	UploadArtifact(ctx context.Context, a Artifact) (location string, err error)
	// RestoreCache fills dir from the cache stored under key; a missing cache
	// is not an error. SaveCache stores dir under key.
	RestoreCache(ctx context.Context, key, dir string) error
	SaveCache(ctx context.Context, key, dir string) error
	Reports(ctx context.Context, reports []ReportFiles) error
}

// PhaseContext is a phase's statusCode and message, as BatchGetBuilds shows.
type PhaseContext struct {
	StatusCode string
	Message    string
}

// Phase is a phase starting (Status "") or ending.
type Phase struct {
	Type     string
	Status   string // "" when starting; SUCCEEDED, FAILED, FAULT, TIMED_OUT, STOPPED when ending
	Start    time.Time
	End      time.Time // zero when starting
	Contexts []PhaseContext
}

// Observer sees the build as it runs: the service persists phases, streams the
// log to CloudWatch Logs and publishes events. Calls come from one goroutine,
// in order.
type Observer interface {
	Phase(p Phase)
	Log(p []byte) // the build log in order, [Container] lines included
}

// Result is how the build ended.
type Result struct {
	Status string // SUCCEEDED, FAILED, FAULT, TIMED_OUT or STOPPED
	// ExportedVariables are the buildspec's env.exported-variables with their
	// values after the last phase, in buildspec order.
	ExportedVariables []EnvVar
	// ResolvedSourceVersion is the primary source's resolved version.
	ResolvedSourceVersion string
	// ArtifactLocations maps artifact identifiers ("" primary) to where
	// UploadArtifact stored them.
	ArtifactLocations map[string]string
	Phases            []Phase // the ended phases, in order
}

// Engine is the part of the container engine a build uses; *docker.Engine
// satisfies it.
type Engine interface {
	EnsureImage(ctx context.Context, image string) (string, error)
	CreateContainer(ctx context.Context, spec docker.ContainerSpec) (string, error)
	StartContainer(ctx context.Context, id string) error
	KillContainer(ctx context.Context, id, signal string) error
	RemoveContainer(ctx context.Context, id string, opts docker.RemoveOptions) error
	WaitContainer(ctx context.Context, id string) (int, error)
}

// Runner runs builds on a container engine.
type Runner struct {
	engine Engine
	owner  string // overcast.owner label of the build containers
	now    func() time.Time
}

// New returns a runner whose containers carry the owner label owner (e.g.
// "codebuild").
func New(engine Engine, owner string) *Runner {
	return &Runner{engine: engine, owner: owner, now: time.Now}
}

// Run runs the build to its end and reports PROVISIONING through FINALIZING
// to o. Cancelling ctx stops the build (STOPPED); the build's Timeout ends it
// as TIMED_OUT. The error is for faults of the runner itself (e.g. no engine);
// a build that fails its buildspec returns a Result with Status FAILED and a
// nil error.
func (r *Runner) Run(ctx context.Context, b Build, h Hooks, o Observer) (Result, error) {
	return r.run(ctx, b, h, o)
}

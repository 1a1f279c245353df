// Package codebuild implements AWS CodeBuild: build projects, and builds
// that really run their buildspec in a container (package runner) with
// sources, parameters, secrets, artifacts, caches and logs taken from and
// written to overcast's other services, through the small interfaces
// Options names.
package codebuild

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"path/filepath"

	"overcast"
	api "overcast/internal/api/codebuild"
	"overcast/internal/awsproto"
	"overcast/internal/bus"
	"overcast/internal/controller"
	"overcast/internal/docker"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Service is the CodeBuild API.
type Service struct {
	api.UnimplementedServer
	service.Base
	opts    Options
	workDir string // builds' host directories and local caches
	// gitURL is the base of the clone URLs CodeCommit reports in a region,
	// which a build reaches through its endpoint instead.
	gitURL  func(region string) string
	builds  *controller.Controller
	batches *controller.Controller
	// engine is where builds' containers run: what a lost build left
	// there is removed. Nil without an engine.
	engine Containers
	started
}

// Containers is the part of the engine that finds and removes a lost
// build's container; *docker.Engine satisfies it.
type Containers interface {
	ListContainers(ctx context.Context, selector map[string]string) ([]docker.Container, error)
	RemoveContainer(ctx context.Context, id string, opts docker.RemoveOptions) error
}

// buildLabel marks a build's container with the build's ARN.
const buildLabel = "overcast.codebuild.build"

var _ api.Server = (*Service)(nil)

// Options are what CodeBuild takes from the rest of overcast. Every field
// but Runner may be nil: a build then fails in the phase that needed it,
// with the reason in the phase context, as a build lacking a permission
// would. Without a Runner builds stay QUEUED.
type Options struct {
	Runner       Runner
	Objects      Objects
	Parameters   Parameters
	Secrets      Secrets
	Repositories Repositories
	Logs         Logs
	Metrics      Metrics
	Credentials  Credentials
	Images       Images
	Environment  Environment
	// Capacity is how many builds run at once; more wait in QUEUED.
	Capacity int
}

// defaultCapacity is how many builds run at once when Options leave it
// unset: a few, since each is a container on this machine.
const defaultCapacity = 4

// New returns the service.
func New(env *service.Env, opts Options) *Service {
	s := &Service{Base: env.Base(), opts: opts, workDir: filepath.Join(env.DataDir, "codebuild"), gitURL: env.Addresses.GitURL}
	s.running = map[string]context.CancelCauseFunc{}
	s.capacity = cmp.Or(opts.Capacity, defaultCapacity)
	s.ctx, s.stop = context.WithCancel(context.Background())
	if env.Docker != nil {
		s.engine = env.Docker
	}
	s.builds = env.Controllers.AddFunc("codebuild-builds", s.reconcileBuild, store.TableKeysFunc(env.Store, activeTable))
	s.addBatches(env)
	// Webhooks build CodeCommit's pushes, in the process running the
	// controllers: replicas sharing a store would each build them.
	if env.Bus != nil {
		env.Controllers.Subscribe("codebuild-webhooks", bus.Pattern{Source: codecommitSource, Types: []string{repositoryStateChange}}, s.onPush)
	}
	return s
}

// Close stops the running builds and waits for them to end. They are
// left as they stand: the next start finds them lost, as AWS reports
// builds whose host went away.
func (s *Service) Close() error {
	s.stop()
	s.wg.Wait()
	return nil
}

// API is CodeBuild's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: authzTable} }

// updateAttempts bounds the retries of a read-modify-write that lost a race.
const updateAttempts = 10

// scope is where projects and builds live: every account and region has
// its own.
type scope = overcast.Scope

// invalidInput is CodeBuild's InvalidInputException with AWS's message:
// the model gives the exception no message member, but AWS sends one.
func invalidInput(format string, args ...any) error {
	return &awsproto.Error{Code: "InvalidInputException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &awsproto.Error{Code: "ResourceNotFoundException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func alreadyExists(format string, args ...any) error {
	return &awsproto.Error{Code: "ResourceAlreadyExistsException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func limitExceeded(format string, args ...any) error {
	return &awsproto.Error{Code: "AccountLimitExceededException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

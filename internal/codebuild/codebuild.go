// Package codebuild implements AWS CodeBuild: build projects, and builds
// that really run their buildspec in a container (package runner) with
// sources, parameters, secrets, artifacts, caches and logs taken from and
// written to overcast's other services, through the small interfaces
// Options names.
package codebuild

import (
	"fmt"
	"net/http"

	"overcast"
	api "overcast/internal/api/codebuild"
	"overcast/internal/awsproto"
	"overcast/internal/service"
)

// Service is the CodeBuild API.
type Service struct {
	api.UnimplementedServer
	service.Base
	opts Options
}

var _ api.Server = (*Service)(nil)

// Options are what CodeBuild takes from the rest of overcast. Every field
// may be nil: a build then fails in the phase that needed it, with the
// reason in the phase context, as a build lacking a permission would.
type Options struct {
	// ReportBucket receives the raw files of report groups exporting to S3.
	ReportBucket ReportBucket
}

// New returns the service.
func New(env *service.Env, opts Options) *Service {
	return &Service{Base: env.Base(), opts: opts}
}

// API is CodeBuild's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s)} }

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

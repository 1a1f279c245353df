package gitserver

import (
	"context"

	"overcast"
	"overcast/internal/authz"
)

// Authorizer checks a principal's IAM policies: set under --enforce-iam
// (an *authz.Evaluator), so that git's fetches and pushes, which no API
// interceptor sees, need codecommit:GitPull and codecommit:GitPush on the
// repository as they do on AWS.
type Authorizer interface {
	Authorize(ctx context.Context, caller overcast.Caller, checks ...authz.Check) error
}

// SetAuthorizer makes every fetch and push be authorized by a.
func (s *Server) SetAuthorizer(a Authorizer) { s.authorizer = a }

// authorize checks that caller may fetch from (or, with push, push to)
// the repository name in region; nil without an Authorizer.
func (s *Server) authorize(ctx context.Context, caller overcast.Caller, region, name string, push bool) error {
	if s.authorizer == nil {
		return nil
	}
	action := "codecommit:GitPull"
	if push {
		action = "codecommit:GitPush"
	}
	arn := overcast.NewARN("codecommit", region, caller.AccountID, name).String()
	return s.authorizer.Authorize(ctx, caller, authz.Check{Action: action, Resources: []string{arn}})
}

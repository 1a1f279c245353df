package app

import (
	"overcast/internal/authz"
	"overcast/internal/codecommit/gitserver"
	"overcast/internal/ecr"
	"overcast/internal/service"
)

// enforcement is the IAM evaluator of --enforce-iam over the services that
// hold policies: IAM's identities, STS's sessions, and the resource
// policies of the services that have them, found by what each implements.
// It gives the registry's pulls and pushes to ECR, and git's fetches and
// pushes to CodeCommit's git server, to authorize too.
func (m *Main) enforcement(apis []service.API) *authz.Evaluator {
	src := authz.Sources{Resources: map[string]authz.Resources{}}
	tables := map[string]*authz.Table{}
	for _, a := range apis {
		if a.Authz != nil {
			tables[a.Binding.Service().ID] = a.Authz
		}
	}
	for _, s := range m.services {
		if id, ok := s.(authz.Identities); ok {
			src.Identities = id
		}
		if ss, ok := s.(authz.Sessions); ok {
			src.Sessions = ss
		}
		if p, ok := s.(service.APIProvider); ok {
			if r, ok := s.(authz.Resources); ok {
				src.Resources[p.API().Binding.Service().SigningName] = r
			}
		}
	}
	e := authz.NewEvaluator(src, tables)
	for _, s := range m.services {
		switch s := s.(type) {
		case *ecr.Service:
			s.SetAuthorizer(e)
		case *gitserver.Server:
			s.SetAuthorizer(e)
		}
	}
	return e
}

package ecr

import (
	"context"
	"errors"
	"strings"

	"overcast"
	api "overcast/internal/api/ecr"
	"overcast/internal/authz"
	"overcast/internal/ecr/registry"
	"overcast/internal/store"
)

// Authorizer checks a principal's IAM policies: set under --enforce-iam
// (an *authz.Evaluator), so that the registry's pulls and pushes, which
// no API interceptor sees, are authorized as the token's principal.
type Authorizer interface {
	Authorize(ctx context.Context, caller overcast.Caller, checks ...authz.Check) error
}

// SetAuthorizer makes every repository access be authorized by a.
func (s *Service) SetAuthorizer(a Authorizer) { s.authorizer = a }

// table authorizes each ECR operation on the repository it names
// (repositoryName in registryId's account, or a resourceArn); the others
// (GetAuthorizationToken, registry settings) take no resource.
var table = authz.Table{Prefix: "ecr", Rules: authz.Every(api.Bind(&Service{}).Service(), authz.Rule{Resources: repositoryResource}, nil)}

func repositoryResource(_ context.Context, s authz.Scope, in any) []string {
	if arn := authz.StringField(in, "ResourceArn"); arn != "" {
		return []string{arn}
	}
	name := authz.StringField(in, "RepositoryName")
	if name == "" {
		return nil
	}
	if id := authz.StringField(in, "RegistryId"); id != "" {
		s.AccountID = id
	}
	return []string{s.ARN("ecr", "repository/"+name)}
}

var _ authz.Resources = (*Service)(nil)

// ResourceOf describes the repository an ECR ARN names: its account, its
// repository policy and its tags (aws:ResourceTag, ecr:ResourceTag).
func (s *Service) ResourceOf(ctx context.Context, arn string) (authz.Resource, error) {
	a, ok := overcast.ParseARN(arn)
	name, isRepo := strings.CutPrefix(a.Resource, "repository/")
	if !ok || !isRepo {
		return authz.Resource{Owner: a.AccountID}, nil
	}
	var rec repository
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, reposTable, repoKey(registry.Repo{Account: a.AccountID, Region: a.Region, Name: name}), &rec)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return authz.Resource{Owner: a.AccountID}, nil
	}
	if err != nil {
		return authz.Resource{}, err
	}
	res := authz.Resource{Owner: a.AccountID}
	if rec.Policy != "" {
		p := authz.ParsePolicy(name, "resource", rec.Policy)
		res.Policy = &p
	}
	if len(rec.Tags) > 0 {
		res.Tags = make(map[string]string, 2*len(rec.Tags))
		for _, t := range rec.Tags {
			res.Tags[t.Key] = t.Value
		}
	}
	return res, nil
}

// callerOf is the principal a registry token speaks for.
func callerOf(id registry.Identity) overcast.Caller {
	c := overcast.Caller{AccountID: id.Account, Region: id.Region, ARN: id.Principal, RoleARN: id.RoleARN, AccessKeyID: id.AccessKeyID, UserID: id.UserID}
	switch {
	case strings.HasSuffix(id.Principal, ":root"):
		c.Kind = overcast.PrincipalRoot
	case strings.Contains(id.Principal, ":assumed-role/"):
		c.Kind = overcast.PrincipalAssumedRole
	case strings.Contains(id.Principal, ":federated-user/"):
		c.Kind = overcast.PrincipalFederated
	default:
		c.Kind = overcast.PrincipalUser
	}
	if strings.HasPrefix(id.AccessKeyID, "ASIA") {
		c.SessionToken = "session" // temporary credentials: their session policies apply
	}
	return c
}

// authorizeAs checks caller's IAM policies for action on repo, as ECR's
// AccessDenied.
func (s *Service) authorizeAs(ctx context.Context, caller overcast.Caller, repo registry.Repo, action string) error {
	err := s.authorizer.Authorize(ctx, caller, authz.Check{Action: action, Resources: []string{repoOf(repo).arn(repo.Name)}})
	var d *authz.Denied
	if errors.As(err, &d) {
		return derr(kindDenied, "%s", d.Error())
	}
	return err
}

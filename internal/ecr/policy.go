package ecr

import (
	"context"
	"errors"

	"overcast"
	api "overcast/internal/api/ecr"
	"overcast/internal/ecr/registry"
	"overcast/internal/policy"
	"overcast/internal/store"
)

// checkRepoPolicy validates a repository policy the way ECR does: a
// resource policy of ECR actions, every fault worded as ECR's one message.
func checkRepoPolicy(text string) (*policy.Document, error) {
	p, err := policy.ValidateResource(text, policy.Scope{Vendor: "ecr"})
	if err != nil {
		return nil, api.NewInvalidParameterException("Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'")
	}
	return p, nil
}

// repoPolicyAllows reports whether a repository's policy lets principal
// (an ARN of account) do action on it.
func repoPolicyAllows(p *policy.Document, repo registry.Repo, account, principal, action string) bool {
	r := policy.Request{Principal: policy.Principal{AccountID: account, ARN: principal}, Action: action, Resource: repoOf(repo).arn(repo.Name)}
	return policy.Evaluate(r, p) == policy.Allowed
}

// Authorize implements registry.Backend; see authorize.
func (s *Service) Authorize(ctx context.Context, id registry.Identity, repo registry.Repo, action string) error {
	return registryError(s.authorize(ctx, callerOf(id), repo, action))
}

// authorize lets an account do anything to its own repositories (IAM
// identity policies are not enforced yet) and another account what the
// repository's policy grants it.
func (s *Service) authorize(ctx context.Context, caller overcast.Caller, repo registry.Repo, action string) error {
	if s.authorizer != nil {
		return s.authorizeAs(ctx, caller, repo, action)
	}
	account, principal := caller.AccountID, caller.ARN
	if account == repo.Account {
		return nil
	}
	var rec repository
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, reposTable, repoKey(repo), &rec)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return repoNotFound(repo)
	}
	if err != nil {
		return err
	}
	if rec.Policy != "" {
		if p, err := policy.Parse(rec.Policy); err == nil && repoPolicyAllows(p, repo, account, principal, action) {
			return nil
		}
	}
	return denied(repo, principal, action)
}

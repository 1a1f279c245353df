package codecommit

import (
	"context"

	"overcast"
	api "overcast/internal/api/codecommit"
	"overcast/internal/authz"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

// authzTable is how IAM authorizes CodeCommit's operations (the Service
// Authorization Reference's "AWS CodeCommit"): on the repository a call
// acts in, named by the call or, for pull requests and comments, the
// repository they belong to. Approval rule templates are no resource of
// IAM's: their own operations need "*". It is the Service's own because
// only the store knows a pull request's or a comment's repository.
func (s *Service) authzTable() *authz.Table {
	repository := authz.Rule{Resources: authz.Ref("RepositoryName", s.repositoryARN)}
	repositories := authz.Rule{Resources: authz.Ref("RepositoryNames", s.repositoryARN)}
	pullRequest := authz.Rule{Resources: s.pullRequestRepository}
	comment := authz.Rule{Resources: s.commentRepository("CommentId")}
	rules := map[string]authz.Rule{
		"CreateRepository":            repository,
		"DeleteRepository":            repository,
		"GetRepository":               repository,
		"BatchGetRepositories":        repositories,
		"UpdateRepositoryDescription": repository,
		"UpdateRepositoryName": {Resources: authz.Union(authz.Ref("OldName", s.repositoryARN),
			authz.Ref("NewName", s.repositoryARN))},
		"UpdateDefaultBranch":    repository,
		"GetRepositoryTriggers":  repository,
		"PutRepositoryTriggers":  repository,
		"TestRepositoryTriggers": repository,

		"CreateBranch":          repository,
		"DeleteBranch":          repository,
		"GetBranch":             repository,
		"ListBranches":          repository,
		"CreateCommit":          repository,
		"GetCommit":             repository,
		"BatchGetCommits":       repository,
		"GetBlob":               repository,
		"GetFile":               repository,
		"GetFolder":             repository,
		"PutFile":               repository,
		"DeleteFile":            repository,
		"GetDifferences":        repository,
		"ListFileCommitHistory": repository,

		"GetMergeCommit":                repository,
		"GetMergeConflicts":             repository,
		"GetMergeOptions":               repository,
		"DescribeMergeConflicts":        repository,
		"BatchDescribeMergeConflicts":   repository,
		"CreateUnreferencedMergeCommit": repository,
		"MergeBranchesByFastForward":    repository,
		"MergeBranchesBySquash":         repository,
		"MergeBranchesByThreeWay":       repository,

		"GetCommentsForComparedCommit": repository,
		"PostCommentForComparedCommit": repository,
		"GetComment":                   comment,
		"GetCommentReactions":          comment,
		"UpdateComment":                comment,
		"DeleteCommentContent":         comment,
		"PutCommentReaction":           comment,
		"PostCommentReply":             {Resources: s.commentRepository("InReplyTo")},

		"ListPullRequests": repository,
		"CreatePullRequest": {Resources: authz.On(func(as authz.Scope, in *api.CreatePullRequestInput) []string {
			var out []string
			for _, t := range in.Targets {
				if t.RepositoryName != nil {
					out = append(out, s.repositoryARN(as, *t.RepositoryName))
				}
			}
			return out
		})},
		"GetCommentsForPullRequest":            pullRequest,
		"PostCommentForPullRequest":            pullRequest,
		"MergePullRequestByFastForward":        pullRequest,
		"MergePullRequestBySquash":             pullRequest,
		"MergePullRequestByThreeWay":           pullRequest,
		"CreatePullRequestApprovalRule":        pullRequest,
		"DeletePullRequestApprovalRule":        pullRequest,
		"UpdatePullRequestApprovalRuleContent": pullRequest,
		"UpdatePullRequestApprovalState":       pullRequest,
		"EvaluatePullRequestApprovalRules":     pullRequest,
		"OverridePullRequestApprovalRules":     pullRequest,
		"GetPullRequest":                       pullRequest,
		"GetPullRequestApprovalStates":         pullRequest,
		"GetPullRequestOverrideState":          pullRequest,
		"DescribePullRequestEvents":            pullRequest,
		"UpdatePullRequestDescription":         pullRequest,
		"UpdatePullRequestStatus":              pullRequest,
		"UpdatePullRequestTitle":               pullRequest,

		"AssociateApprovalRuleTemplateWithRepository":           repository,
		"DisassociateApprovalRuleTemplateFromRepository":        repository,
		"BatchAssociateApprovalRuleTemplateWithRepositories":    repositories,
		"BatchDisassociateApprovalRuleTemplateFromRepositories": repositories,
		"ListAssociatedApprovalRuleTemplatesForRepository":      repository,

		"TagResource":         {Resources: authz.ResourceARN},
		"UntagResource":       {Resources: authz.ResourceARN},
		"ListTagsForResource": {Resources: authz.ResourceARN},
	}
	return &authz.Table{Prefix: "codecommit", Rules: rules}
}

func (s *Service) repositoryARN(as authz.Scope, name string) string { return s.arn(as.Local(), name) }

// pullRequestRepository is the repository of the pull request an input's
// PullRequestId names (or, without one, of its RepositoryName).
func (s *Service) pullRequestRepository(ctx context.Context, as authz.Scope, in any) []string {
	id := authz.Field(in, "PullRequestId")
	if id == "" {
		if authz.HasField(in, "RepositoryName") {
			return authz.Ref("RepositoryName", s.repositoryARN)(ctx, as, in)
		}
		return nil
	}
	var pr pullRequest
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		pr, _, err = getPullRequest(tx, as.Local(), id)
		return err
	})
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range pr.Targets {
		out = append(out, s.repositoryARN(as, t.Repository))
	}
	return out
}

// commentRepository is the repository of the comment an input's field
// names.
func (s *Service) commentRepository(field string) func(context.Context, authz.Scope, any) []string {
	return func(ctx context.Context, as authz.Scope, in any) []string {
		id := authz.Field(in, field)
		if id == "" {
			return nil
		}
		var c comment
		err := s.Store.View(ctx, func(tx store.Tx) (err error) {
			c, _, err = getComment(tx, as.Local(), id)
			return err
		})
		if err != nil || c.Repository == "" {
			return nil
		}
		return []string{s.repositoryARN(as, c.Repository)}
	}
}

// GitCheck is what a git client must be allowed to fetch from
// (codecommit:GitPull) or push to (codecommit:GitPush) repository, for
// the git server to ask once it has authenticated the caller.
func (s *Service) GitCheck(as authz.Scope, repository string, push bool) authz.Check {
	action := "codecommit:GitPull"
	if push {
		action = "codecommit:GitPush"
	}
	return authz.Check{Action: action, Resources: []string{s.repositoryARN(as, repository)}}
}

var _ authz.Resources = (*Service)(nil)

// ResourceOf describes the repository a CodeCommit ARN names, for
// authorization of the API and of git alike: its account and its tags
// (aws:ResourceTag).
func (s *Service) ResourceOf(ctx context.Context, arn string) (authz.Resource, error) {
	a, _ := overcast.ParseARN(arn)
	res := authz.Resource{Owner: a.AccountID}
	if !validRepositoryName(a.Resource) {
		return res, nil
	}
	sc := scope{Account: a.AccountID, Region: a.Region}
	r, err := viewItem(ctx, s.Store, func(tx store.Tx) (repository, int64, error) { return getRepository(tx, sc, a.Resource) })
	if _, missing := awsproto.AsAPIError(err); missing {
		return res, nil // no such repository: the operation says so
	}
	res.Tags = r.Tags
	return res, err
}

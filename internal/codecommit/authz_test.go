package codecommit

import (
	"context"
	"testing"

	"overcast"
	api "overcast/internal/api/codecommit"
	"overcast/internal/authz/authztest"
	"overcast/internal/service/servicetest"
)

// TestAuthzTable: calls are authorized on their repository, pull
// requests' and comments' calls on the repository they belong to.
func TestAuthzTable(t *testing.T) {
	s := New(servicetest.Env(t), Options{})
	ctx := overcast.WithCaller(context.Background(), overcast.RootCaller(authztest.Scope.AccountID, authztest.Scope.Region))
	base, feature, pr := openPullRequest(t, s, ctx)
	c, err := s.PostCommentForPullRequest(ctx, &api.PostCommentForPullRequestInput{PullRequestId: pr.PullRequest.PullRequestId,
		RepositoryName: new("app"), BeforeCommitId: base.CommitId, AfterCommitId: feature.CommitId, Content: new("Looks good.")})
	if err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:codecommit:us-east-1:123456789012:"
	authztest.Run(t, s.authzTable(), []authztest.Case{
		{Op: "GetRepository", In: &api.GetRepositoryInput{RepositoryName: new("app")}, Resources: []string{arn + "app"}},
		{Op: "UpdateRepositoryName", In: &api.UpdateRepositoryNameInput{OldName: new("app"), NewName: new("web")}, Resources: []string{arn + "app", arn + "web"}},
		{Op: "CreatePullRequest", In: &api.CreatePullRequestInput{Targets: api.TargetList{{RepositoryName: new("app")}}}, Resources: []string{arn + "app"}},
		{Op: "GetPullRequest", In: &api.GetPullRequestInput{PullRequestId: pr.PullRequest.PullRequestId}, Resources: []string{arn + "app"}},
		{Op: "UpdateComment", In: &api.UpdateCommentInput{CommentId: c.Comment.CommentId}, Resources: []string{arn + "app"}},
		{Op: "PostCommentReply", In: &api.PostCommentReplyInput{InReplyTo: c.Comment.CommentId}, Resources: []string{arn + "app"}},
		{Op: "ListApprovalRuleTemplates", In: &api.ListApprovalRuleTemplatesInput{}, Resources: []string{"*"}},
	})
	for push, want := range map[bool]string{false: "codecommit:GitPull", true: "codecommit:GitPush"} {
		if got := s.GitCheck(authztest.Scope, "app", push); got.Action != want || got.Resources[0] != arn+"app" {
			t.Errorf("GitCheck(push %v): got %+v, want %s on %sapp", push, got, want, arn)
		}
	}
}

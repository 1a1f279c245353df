package codecommit_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/codecommit/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

func TestPullRequestComments(t *testing.T) {
	a := newAppRepo(t)
	srv, c, base, feature := a.srv, a.c, a.base, a.feature
	pr := a.openPullRequest(t)

	post := &codecommit.PostCommentForPullRequestInput{PullRequestId: pr.PullRequestId, RepositoryName: aws.String("app"),
		BeforeCommitId: aws.String(base), AfterCommitId: aws.String(feature), Content: aws.String("Why this line?"), ClientRequestToken: aws.String("c1"),
		Location: &types.Location{FilePath: aws.String("f.txt"), FilePosition: aws.Int64(2), RelativeFileVersion: types.RelativeFileVersionEnumAfter}}
	posted := awstest.Call(t, c.PostCommentForPullRequest, post)
	if again := awstest.Call(t, c.PostCommentForPullRequest, post); aws.ToString(again.Comment.CommentId) != aws.ToString(posted.Comment.CommentId) {
		t.Errorf("posting again with the same token: got comment %s, want %s", aws.ToString(again.Comment.CommentId), aws.ToString(posted.Comment.CommentId))
	}
	if posted.AfterBlobId == nil || posted.BeforeBlobId == nil {
		t.Errorf("comment on a file: got blobs %v and %v, want both", posted.BeforeBlobId, posted.AfterBlobId)
	}
	id := posted.Comment.CommentId

	rc := reviewer(t, srv, "reviewer")
	reply := awstest.Call(t, rc.PostCommentReply, &codecommit.PostCommentReplyInput{InReplyTo: id, Content: aws.String("To fix the bug.")}).Comment
	awstest.Call(t, rc.PutCommentReaction, &codecommit.PutCommentReactionInput{CommentId: id, ReactionValue: aws.String(":thumbsup:")})
	_, err := rc.UpdateComment(context.Background(), &codecommit.UpdateCommentInput{CommentId: id, Content: aws.String("hijacked")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "CommentNotCreatedByCallerException", Status: 400})
	awstest.Call(t, c.UpdateComment, &codecommit.UpdateCommentInput{CommentId: id, Content: aws.String("Why this line, exactly?")})

	data := awstest.Call(t, c.GetCommentsForPullRequest, &codecommit.GetCommentsForPullRequestInput{PullRequestId: pr.PullRequestId}).CommentsForPullRequestData
	if len(data) != 1 {
		t.Fatalf("threads: got %d, want 1", len(data))
	}
	var contents []string
	for _, cm := range data[0].Comments {
		contents = append(contents, aws.ToString(cm.Content))
	}
	if want := []string{"Why this line, exactly?", "To fix the bug."}; !cmp.Equal(contents, want) {
		t.Errorf("thread: got %q, want %q", contents, want)
	}
	if got := data[0].Comments[0].ReactionCounts["👍"]; got != 1 {
		t.Errorf("reaction count: got %d, want 1", got)
	}
	reactions := awstest.Call(t, c.GetCommentReactions, &codecommit.GetCommentReactionsInput{CommentId: id}).ReactionsForComment
	if len(reactions) != 1 || aws.ToString(reactions[0].Reaction.ShortCode) != ":thumbsup:" || !cmp.Equal(reactions[0].ReactionUsers, []string{approverPoolArn}) {
		t.Errorf("reactions: got %+v", reactions)
	}

	deleted := awstest.Call(t, rc.DeleteCommentContent, &codecommit.DeleteCommentContentInput{CommentId: reply.CommentId}).Comment
	if !deleted.Deleted || aws.ToString(deleted.Content) != "" {
		t.Errorf("deleted comment: got deleted %v content %q", deleted.Deleted, aws.ToString(deleted.Content))
	}

	compared := awstest.Call(t, c.PostCommentForComparedCommit, &codecommit.PostCommentForComparedCommitInput{RepositoryName: aws.String("app"),
		BeforeCommitId: aws.String(base), AfterCommitId: aws.String(feature), Content: aws.String("Nice.")})
	got := awstest.Call(t, c.GetCommentsForComparedCommit, &codecommit.GetCommentsForComparedCommitInput{RepositoryName: aws.String("app"),
		AfterCommitId: aws.String(feature)}).CommentsForComparedCommitData
	if len(got) != 1 || aws.ToString(got[0].Comments[0].CommentId) != aws.ToString(compared.Comment.CommentId) {
		t.Errorf("comments for compared commits: got %+v", got)
	}

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "empty comment", Call: awstest.Fails(c.PostCommentReply, &codecommit.PostCommentReplyInput{InReplyTo: id, Content: aws.String("")}),
			Want: awstest.APIError{Code: "CommentContentRequiredException", Status: 400}},
		{Name: "reply to a missing comment", Call: awstest.Fails(c.PostCommentReply, &codecommit.PostCommentReplyInput{InReplyTo: aws.String("nope"), Content: aws.String("x")}),
			Want: awstest.APIError{Code: "CommentDoesNotExistException", Status: 400}},
		{Name: "edit a deleted comment", Call: awstest.Fails(rc.UpdateComment, &codecommit.UpdateCommentInput{CommentId: reply.CommentId, Content: aws.String("x")}),
			Want: awstest.APIError{Code: "CommentDeletedException", Status: 400}},
		{Name: "unknown reaction", Call: awstest.Fails(c.PutCommentReaction, &codecommit.PutCommentReactionInput{CommentId: id, ReactionValue: aws.String(":nope:")}),
			Want: awstest.APIError{Code: "InvalidReactionValueException", Status: 400}},
		{Name: "same before and after", Call: awstest.Fails(c.PostCommentForComparedCommit, &codecommit.PostCommentForComparedCommitInput{RepositoryName: aws.String("app"),
			BeforeCommitId: aws.String(base), AfterCommitId: aws.String(base), Content: aws.String("x")}),
			Want: awstest.APIError{Code: "BeforeCommitIdAndAfterCommitIdAreSameException", Status: 400}},
		{Name: "file not in the commit", Call: awstest.Fails(c.PostCommentForComparedCommit, &codecommit.PostCommentForComparedCommitInput{RepositoryName: aws.String("app"),
			AfterCommitId: aws.String(feature), Content: aws.String("x"), Location: &types.Location{FilePath: aws.String("nope.txt"), FilePosition: aws.Int64(1),
				RelativeFileVersion: types.RelativeFileVersionEnumAfter}}),
			Want: awstest.APIError{Code: "PathDoesNotExistException", Status: 400}},
		{Name: "token reused", Call: awstest.Fails(c.PostCommentReply, &codecommit.PostCommentReplyInput{InReplyTo: id, Content: aws.String("other"), ClientRequestToken: aws.String("c1")}),
			Want: awstest.APIError{Code: "IdempotencyParameterMismatchException", Status: 400}},
	})
}

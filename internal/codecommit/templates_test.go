package codecommit_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/codecommit/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"overcast/internal/awstest"
)

const oneApproval = `{"Version":"2018-11-08","Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":1}]}`

func TestApprovalRuleTemplateLifecycle(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	createRepository(t, c, "app")
	createRepository(t, c, "web")
	created := awstest.Call(t, c.CreateApprovalRuleTemplate, &codecommit.CreateApprovalRuleTemplateInput{ApprovalRuleTemplateName: aws.String("one"),
		ApprovalRuleTemplateContent: aws.String(oneApproval), ApprovalRuleTemplateDescription: aws.String("one approval")}).ApprovalRuleTemplate
	if aws.ToString(created.RuleContentSha256) == "" || aws.ToString(created.LastModifiedUser) != "arn:aws:iam::000000000000:root" {
		t.Errorf("created template: got %+v", created)
	}

	batch := awstest.Call(t, c.BatchAssociateApprovalRuleTemplateWithRepositories, &codecommit.BatchAssociateApprovalRuleTemplateWithRepositoriesInput{
		ApprovalRuleTemplateName: aws.String("one"), RepositoryNames: []string{"app", "web", "nope"}})
	if !cmp.Equal(batch.AssociatedRepositoryNames, []string{"app", "web"}) || len(batch.Errors) != 1 ||
		aws.ToString(batch.Errors[0].ErrorCode) != "RepositoryDoesNotExistException" {
		t.Errorf("BatchAssociate: got %v, errors %+v", batch.AssociatedRepositoryNames, batch.Errors)
	}
	repos := awstest.Call(t, c.ListRepositoriesForApprovalRuleTemplate, &codecommit.ListRepositoriesForApprovalRuleTemplateInput{ApprovalRuleTemplateName: aws.String("one")})
	if !cmp.Equal(repos.RepositoryNames, []string{"app", "web"}) {
		t.Errorf("ListRepositoriesForApprovalRuleTemplate: got %v", repos.RepositoryNames)
	}
	_, err := c.DeleteApprovalRuleTemplate(ctx, &codecommit.DeleteApprovalRuleTemplateInput{ApprovalRuleTemplateName: aws.String("one")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ApprovalRuleTemplateInUseException", Status: 400})

	renamed := awstest.Call(t, c.UpdateApprovalRuleTemplateName, &codecommit.UpdateApprovalRuleTemplateNameInput{
		OldApprovalRuleTemplateName: aws.String("one"), NewApprovalRuleTemplateName: aws.String("single")}).ApprovalRuleTemplate
	if aws.ToString(renamed.ApprovalRuleTemplateId) != aws.ToString(created.ApprovalRuleTemplateId) {
		t.Errorf("renamed template: got id %s, want %s", aws.ToString(renamed.ApprovalRuleTemplateId), aws.ToString(created.ApprovalRuleTemplateId))
	}
	two := `{"Version":"2018-11-08","Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":2}]}`
	_, err = c.UpdateApprovalRuleTemplateContent(ctx, &codecommit.UpdateApprovalRuleTemplateContentInput{ApprovalRuleTemplateName: aws.String("single"),
		NewRuleContent: &two, ExistingRuleContentSha256: aws.String("stale")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidRuleContentSha256Exception", Status: 400})
	updated := awstest.Call(t, c.UpdateApprovalRuleTemplateContent, &codecommit.UpdateApprovalRuleTemplateContentInput{ApprovalRuleTemplateName: aws.String("single"),
		NewRuleContent: &two, ExistingRuleContentSha256: created.RuleContentSha256}).ApprovalRuleTemplate
	if aws.ToString(updated.ApprovalRuleTemplateContent) != two {
		t.Errorf("updated content: got %s", aws.ToString(updated.ApprovalRuleTemplateContent))
	}
	awstest.Call(t, c.UpdateApprovalRuleTemplateDescription, &codecommit.UpdateApprovalRuleTemplateDescriptionInput{
		ApprovalRuleTemplateName: aws.String("single"), ApprovalRuleTemplateDescription: aws.String("two approvals")})
	got := awstest.Call(t, c.GetApprovalRuleTemplate, &codecommit.GetApprovalRuleTemplateInput{ApprovalRuleTemplateName: aws.String("single")}).ApprovalRuleTemplate
	if aws.ToString(got.ApprovalRuleTemplateDescription) != "two approvals" {
		t.Errorf("description: got %q", aws.ToString(got.ApprovalRuleTemplateDescription))
	}

	// Deleting a repository ends its associations: a new one of the same name has none.
	awstest.Call(t, c.DeleteRepository, &codecommit.DeleteRepositoryInput{RepositoryName: aws.String("web")})
	createRepository(t, c, "web")
	for repo, want := range map[string][]string{"app": {"single"}, "web": {}} {
		names := awstest.Call(t, c.ListAssociatedApprovalRuleTemplatesForRepository, &codecommit.ListAssociatedApprovalRuleTemplatesForRepositoryInput{
			RepositoryName: aws.String(repo)}).ApprovalRuleTemplateNames
		if !cmp.Equal(names, want, cmpopts.EquateEmpty()) {
			t.Errorf("templates of %s: got %v, want %v", repo, names, want)
		}
	}
	awstest.Call(t, c.BatchDisassociateApprovalRuleTemplateFromRepositories, &codecommit.BatchDisassociateApprovalRuleTemplateFromRepositoriesInput{
		ApprovalRuleTemplateName: aws.String("single"), RepositoryNames: []string{"app"}})
	deleted := awstest.Call(t, c.DeleteApprovalRuleTemplate, &codecommit.DeleteApprovalRuleTemplateInput{ApprovalRuleTemplateName: aws.String("single")})
	if aws.ToString(deleted.ApprovalRuleTemplateId) != aws.ToString(created.ApprovalRuleTemplateId) {
		t.Errorf("DeleteApprovalRuleTemplate: got id %s", aws.ToString(deleted.ApprovalRuleTemplateId))
	}
	if names := awstest.Call(t, c.ListApprovalRuleTemplates, &codecommit.ListApprovalRuleTemplatesInput{}).ApprovalRuleTemplateNames; len(names) != 0 {
		t.Errorf("templates after delete: got %v", names)
	}
}

// TestTemplateAppliesOnlyToItsBranches: a template naming destination references adds its rule only
// to pull requests into those branches.
func TestTemplateAppliesOnlyToItsBranches(t *testing.T) {
	a := newAppRepo(t)
	c := a.c
	awstest.Call(t, c.CreateApprovalRuleTemplate, &codecommit.CreateApprovalRuleTemplateInput{ApprovalRuleTemplateName: aws.String("release"),
		ApprovalRuleTemplateContent: aws.String(`{"Version":"2018-11-08","DestinationReferences":["refs/heads/release"],
			"Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":1}]}`)})
	awstest.Call(t, c.AssociateApprovalRuleTemplateWithRepository, &codecommit.AssociateApprovalRuleTemplateWithRepositoryInput{
		ApprovalRuleTemplateName: aws.String("release"), RepositoryName: aws.String("app")})
	awstest.Call(t, c.CreateBranch, &codecommit.CreateBranchInput{RepositoryName: aws.String("app"), BranchName: aws.String("release"), CommitId: &a.base})
	for branch, want := range map[string]int{"main": 0, "release": 1} {
		pr := awstest.Call(t, c.CreatePullRequest, &codecommit.CreatePullRequestInput{Title: aws.String("into " + branch),
			Targets: []types.Target{{RepositoryName: aws.String("app"), SourceReference: aws.String("feature"), DestinationReference: aws.String(branch)}}}).PullRequest
		if len(pr.ApprovalRules) != want {
			t.Errorf("pull request into %s: got %d approval rules, want %d", branch, len(pr.ApprovalRules), want)
		}
	}
}

// TestRenamedRepositoryKeepsItsPullRequests: pull requests, comments and template associations
// follow a repository to its new name.
func TestRenamedRepositoryKeepsItsPullRequests(t *testing.T) {
	a := newAppRepo(t)
	c := a.c
	awstest.Call(t, c.CreateApprovalRuleTemplate, &codecommit.CreateApprovalRuleTemplateInput{ApprovalRuleTemplateName: aws.String("one"),
		ApprovalRuleTemplateContent: aws.String(oneApproval)})
	awstest.Call(t, c.AssociateApprovalRuleTemplateWithRepository, &codecommit.AssociateApprovalRuleTemplateWithRepositoryInput{
		ApprovalRuleTemplateName: aws.String("one"), RepositoryName: aws.String("app")})
	pr := a.openPullRequest(t)
	awstest.Call(t, c.PostCommentForPullRequest, &codecommit.PostCommentForPullRequestInput{PullRequestId: pr.PullRequestId, RepositoryName: aws.String("app"),
		BeforeCommitId: &a.base, AfterCommitId: &a.feature, Content: aws.String("ok")})
	awstest.Call(t, c.UpdateRepositoryName, &codecommit.UpdateRepositoryNameInput{OldName: aws.String("app"), NewName: aws.String("web")})

	got := awstest.Call(t, c.GetPullRequest, &codecommit.GetPullRequestInput{PullRequestId: pr.PullRequestId}).PullRequest
	if repo := aws.ToString(got.PullRequestTargets[0].RepositoryName); repo != "web" {
		t.Errorf("pull request target: got %s, want web", repo)
	}
	if ids := awstest.Call(t, c.ListPullRequests, &codecommit.ListPullRequestsInput{RepositoryName: aws.String("web")}).PullRequestIds; !cmp.Equal(ids, []string{aws.ToString(pr.PullRequestId)}) {
		t.Errorf("pull requests of web: got %v", ids)
	}
	if names := awstest.Call(t, c.ListAssociatedApprovalRuleTemplatesForRepository, &codecommit.ListAssociatedApprovalRuleTemplatesForRepositoryInput{
		RepositoryName: aws.String("web")}).ApprovalRuleTemplateNames; !cmp.Equal(names, []string{"one"}) {
		t.Errorf("templates of web: got %v", names)
	}
	comments := awstest.Call(t, c.GetCommentsForPullRequest, &codecommit.GetCommentsForPullRequestInput{PullRequestId: pr.PullRequestId,
		RepositoryName: aws.String("web")}).CommentsForPullRequestData
	if len(comments) != 1 || aws.ToString(comments[0].RepositoryName) != "web" {
		t.Errorf("comments after the rename: got %+v", comments)
	}
}

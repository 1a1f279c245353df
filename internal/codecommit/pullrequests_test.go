package codecommit_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/codecommit/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"overcast/internal/awstest"
	"overcast/internal/git"
)

// repoOnDisk opens the git repository behind a CodeCommit repository the test created, to write
// commits the way a push would.
func repoOnDisk(srv *awstest.Server, meta types.RepositoryMetadata) *git.Repo {
	return git.Open(filepath.Join(srv.DataDir, "codecommit", aws.ToString(meta.AccountId), "us-east-1", aws.ToString(meta.RepositoryId)+".git"))
}

// commitTo commits files (path → content) on branch through the API, as a push would.
func commitTo(t *testing.T, c *codecommit.Client, branch, parent string, files map[string]string) string {
	t.Helper()
	in := &codecommit.CreateCommitInput{RepositoryName: aws.String("app"), BranchName: &branch, AuthorName: aws.String("Dev"),
		CommitMessage: aws.String("change " + branch)}
	if parent != "" {
		in.ParentCommitId = &parent
	}
	for path, content := range files {
		in.PutFiles = append(in.PutFiles, types.PutFileEntry{FilePath: aws.String(path), FileContent: []byte(content)})
	}
	return aws.ToString(awstest.Call(t, c.CreateCommit, in).CommitId)
}

// appRepo is a repository "app" whose main branch has f.txt, and a feature branch that changes it.
type appRepo struct {
	srv           *awstest.Server
	c             *codecommit.Client
	git           *git.Repo
	base, feature string
}

func newAppRepo(t *testing.T) appRepo {
	t.Helper()
	srv, c := start(t)
	repo := repoOnDisk(srv, createRepository(t, c, "app"))
	base := commitTo(t, c, "main", "", map[string]string{"f.txt": baseText})
	return appRepo{srv: srv, c: c, git: repo, base: base, feature: commitTo(t, c, "feature", base, map[string]string{"f.txt": featureText})}
}

// openPullRequest opens a pull request from feature into the default branch.
func (a appRepo) openPullRequest(t *testing.T) *types.PullRequest {
	t.Helper()
	return awstest.Call(t, a.c.CreatePullRequest, &codecommit.CreatePullRequestInput{Title: aws.String("Feature"),
		Targets: []types.Target{{RepositoryName: aws.String("app"), SourceReference: aws.String("feature")}}}).PullRequest
}

// reviewer makes an IAM user with an access key and returns a CodeCommit client acting as it.
func reviewer(t *testing.T, srv *awstest.Server, name string) *codecommit.Client {
	t.Helper()
	ic := iam.NewFromConfig(srv.Config())
	awstest.Call(t, ic.CreateUser, &iam.CreateUserInput{UserName: &name})
	key := awstest.Call(t, ic.CreateAccessKey, &iam.CreateAccessKeyInput{UserName: &name}).AccessKey
	return codecommit.NewFromConfig(srv.ConfigWith(aws.ToString(key.AccessKeyId), aws.ToString(key.SecretAccessKey), ""))
}

const (
	baseText        = "one\ntwo\nthree\nfour\n"
	featureText     = "one\nTWO from feature\nthree\nfour\n"
	mainText        = "one\nTWO from main\nthree\nfour\n"
	resolvedText    = "one\ntwo, resolved\nthree\nfour\n"
	approverPoolArn = "arn:aws:iam::000000000000:user/reviewer"
)

// TestPullRequestFromCreateToThreeWayMerge: a template's rule applies to the new pull request,
// the reviewer approves, the conflict shows and a conflict resolution merges it.
func TestPullRequestFromCreateToThreeWayMerge(t *testing.T) {
	srv, c := start(t)
	ctx := context.Background()
	meta := createRepository(t, c, "app")
	repo := repoOnDisk(srv, meta)
	base := commitTo(t, c, "main", "", map[string]string{"f.txt": baseText, "keep.txt": "keep\n"})
	feature := commitTo(t, c, "feature", base, map[string]string{"f.txt": featureText})
	mainTip := commitTo(t, c, "main", base, map[string]string{"f.txt": mainText})

	awstest.Call(t, c.CreateApprovalRuleTemplate, &codecommit.CreateApprovalRuleTemplateInput{
		ApprovalRuleTemplateName: aws.String("needs-review"),
		ApprovalRuleTemplateContent: aws.String(`{"Version":"2018-11-08","DestinationReferences":["refs/heads/main"],
			"Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":1,"ApprovalPoolMembers":["` + approverPoolArn + `"]}]}`)})
	awstest.Call(t, c.AssociateApprovalRuleTemplateWithRepository, &codecommit.AssociateApprovalRuleTemplateWithRepositoryInput{
		ApprovalRuleTemplateName: aws.String("needs-review"), RepositoryName: aws.String("app")})

	create := &codecommit.CreatePullRequestInput{Title: aws.String("Feature"), ClientRequestToken: aws.String("token-1"),
		Targets: []types.Target{{RepositoryName: aws.String("app"), SourceReference: aws.String("feature"), DestinationReference: aws.String("main")}}}
	pr := awstest.Call(t, c.CreatePullRequest, create).PullRequest
	if again := awstest.Call(t, c.CreatePullRequest, create).PullRequest; aws.ToString(again.PullRequestId) != aws.ToString(pr.PullRequestId) {
		t.Errorf("CreatePullRequest again with the same token: got %s, want %s", aws.ToString(again.PullRequestId), aws.ToString(pr.PullRequestId))
	}
	target := pr.PullRequestTargets[0]
	if got, want := [4]string{aws.ToString(target.SourceReference), aws.ToString(target.SourceCommit), aws.ToString(target.DestinationCommit), aws.ToString(target.MergeBase)},
		[4]string{"refs/heads/feature", feature, mainTip, base}; got != want {
		t.Errorf("target: got %v, want %v", got, want)
	}
	if len(pr.ApprovalRules) != 1 || aws.ToString(pr.ApprovalRules[0].OriginApprovalRuleTemplate.ApprovalRuleTemplateName) != "needs-review" {
		t.Fatalf("approval rules: got %+v, want the template's", pr.ApprovalRules)
	}
	id, rev := pr.PullRequestId, pr.RevisionId

	eval := awstest.Call(t, c.EvaluatePullRequestApprovalRules, &codecommit.EvaluatePullRequestApprovalRulesInput{PullRequestId: id, RevisionId: rev}).Evaluation
	if eval.Approved || !cmp.Equal(eval.ApprovalRulesNotSatisfied, []string{"needs-review"}) {
		t.Errorf("before approval: got approved %v, not satisfied %v", eval.Approved, eval.ApprovalRulesNotSatisfied)
	}
	_, err := c.MergePullRequestByThreeWay(ctx, &codecommit.MergePullRequestByThreeWayInput{PullRequestId: id, RepositoryName: aws.String("app")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "PullRequestApprovalRulesNotSatisfiedException", Status: 400})
	_, err = c.UpdatePullRequestApprovalState(ctx, &codecommit.UpdatePullRequestApprovalStateInput{PullRequestId: id, RevisionId: rev, ApprovalState: types.ApprovalStateApprove})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "PullRequestCannotBeApprovedByAuthorException", Status: 400})

	rc := reviewer(t, srv, "reviewer")
	awstest.Call(t, rc.UpdatePullRequestApprovalState, &codecommit.UpdatePullRequestApprovalStateInput{PullRequestId: id, RevisionId: rev, ApprovalState: types.ApprovalStateApprove})
	states := awstest.Call(t, c.GetPullRequestApprovalStates, &codecommit.GetPullRequestApprovalStatesInput{PullRequestId: id, RevisionId: rev}).Approvals
	if len(states) != 1 || aws.ToString(states[0].UserArn) != approverPoolArn {
		t.Errorf("approval states: got %+v, want the reviewer's", states)
	}
	eval = awstest.Call(t, c.EvaluatePullRequestApprovalRules, &codecommit.EvaluatePullRequestApprovalRulesInput{PullRequestId: id, RevisionId: rev}).Evaluation
	if !eval.Approved || !cmp.Equal(eval.ApprovalRulesSatisfied, []string{"needs-review"}) {
		t.Errorf("after approval: got approved %v, satisfied %v", eval.Approved, eval.ApprovalRulesSatisfied)
	}

	conflicts := awstest.Call(t, c.GetMergeConflicts, &codecommit.GetMergeConflictsInput{RepositoryName: aws.String("app"),
		SourceCommitSpecifier: aws.String("feature"), DestinationCommitSpecifier: aws.String("main"), MergeOption: types.MergeOptionTypeEnumThreeWayMerge})
	if conflicts.Mergeable || len(conflicts.ConflictMetadataList) != 1 || aws.ToString(conflicts.ConflictMetadataList[0].FilePath) != "f.txt" ||
		!conflicts.ConflictMetadataList[0].ContentConflict || aws.ToString(conflicts.BaseCommitId) != base {
		t.Errorf("GetMergeConflicts: got mergeable %v, %+v", conflicts.Mergeable, conflicts.ConflictMetadataList)
	}
	described := awstest.Call(t, c.DescribeMergeConflicts, &codecommit.DescribeMergeConflictsInput{RepositoryName: aws.String("app"),
		SourceCommitSpecifier: aws.String("feature"), DestinationCommitSpecifier: aws.String("main"), MergeOption: types.MergeOptionTypeEnumThreeWayMerge,
		FilePath: aws.String("f.txt")})
	if len(described.MergeHunks) != 1 || aws.ToString(described.MergeHunks[0].Source.HunkContent) != "TWO from feature\n" ||
		aws.ToString(described.MergeHunks[0].Destination.HunkContent) != "TWO from main\n" || aws.ToInt32(described.MergeHunks[0].Base.StartLine) != 2 {
		t.Errorf("DescribeMergeConflicts hunks: got %+v", described.MergeHunks)
	}
	options := awstest.Call(t, c.GetMergeOptions, &codecommit.GetMergeOptionsInput{RepositoryName: aws.String("app"),
		SourceCommitSpecifier: aws.String("feature"), DestinationCommitSpecifier: aws.String("main"), ConflictResolutionStrategy: types.ConflictResolutionStrategyTypeEnumAcceptSource})
	if want := []types.MergeOptionTypeEnum{types.MergeOptionTypeEnumSquashMerge, types.MergeOptionTypeEnumThreeWayMerge}; !cmp.Equal(options.MergeOptions, want) {
		t.Errorf("GetMergeOptions accepting the source: got %v, want %v", options.MergeOptions, want)
	}

	_, err = c.MergePullRequestByThreeWay(ctx, &codecommit.MergePullRequestByThreeWayInput{PullRequestId: id, RepositoryName: aws.String("app")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ManualMergeRequiredException", Status: 400})
	merged := awstest.Call(t, c.MergePullRequestByThreeWay, &codecommit.MergePullRequestByThreeWayInput{PullRequestId: id, RepositoryName: aws.String("app"),
		SourceCommitId: aws.String(feature), CommitMessage: aws.String("Merge feature"),
		ConflictResolution: &types.ConflictResolution{ReplaceContents: []types.ReplaceContentEntry{{
			FilePath: aws.String("f.txt"), ReplacementType: types.ReplacementTypeEnumUseNewContent, Content: []byte(resolvedText)}}}}).PullRequest
	meta2 := merged.PullRequestTargets[0].MergeMetadata
	if merged.PullRequestStatus != types.PullRequestStatusEnumClosed || !meta2.IsMerged || meta2.MergeOption != types.MergeOptionTypeEnumThreeWayMerge {
		t.Fatalf("merged pull request: got status %s, merge metadata %+v", merged.PullRequestStatus, meta2)
	}
	mergeCommit := aws.ToString(meta2.MergeCommitId)
	if tip, _ := repo.ResolveRef(ctx, "refs/heads/main"); tip != mergeCommit {
		t.Errorf("main: got %s, want the merge commit %s", tip, mergeCommit)
	}
	commit, err := repo.ReadCommit(ctx, mergeCommit)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(commit.Parents, []string{mainTip, feature}) || commit.Message != "Merge feature" {
		t.Errorf("merge commit: got parents %v message %q, want [main feature] and the message given", commit.Parents, commit.Message)
	}
	entry, err := repo.Entry(ctx, mergeCommit, "f.txt")
	if err != nil {
		t.Fatal(err)
	}
	if content, _ := repo.ReadBlob(ctx, entry.ID, 0); string(content) != resolvedText {
		t.Errorf("f.txt after the merge: got %q, want %q", content, resolvedText)
	}
	found := awstest.Call(t, c.GetMergeCommit, &codecommit.GetMergeCommitInput{RepositoryName: aws.String("app"),
		SourceCommitSpecifier: aws.String(feature), DestinationCommitSpecifier: aws.String("main")})
	if aws.ToString(found.MergedCommitId) != mergeCommit {
		t.Errorf("GetMergeCommit: got %s, want %s", aws.ToString(found.MergedCommitId), mergeCommit)
	}

	events := awstest.Call(t, c.DescribePullRequestEvents, &codecommit.DescribePullRequestEventsInput{PullRequestId: id}).PullRequestEvents
	var kinds []string
	for _, ev := range events {
		kinds = append(kinds, string(ev.PullRequestEventType))
	}
	want := []string{"PULL_REQUEST_CREATED", "PULL_REQUEST_APPROVAL_STATE_CHANGED", "PULL_REQUEST_MERGE_STATE_CHANGED", "PULL_REQUEST_STATUS_CHANGED"}
	if !cmp.Equal(kinds, want) {
		t.Errorf("events: got %v, want %v", kinds, want)
	}
	closed := awstest.Call(t, c.ListPullRequests, &codecommit.ListPullRequestsInput{RepositoryName: aws.String("app"), PullRequestStatus: types.PullRequestStatusEnumClosed})
	if !cmp.Equal(closed.PullRequestIds, []string{aws.ToString(id)}) {
		t.Errorf("closed pull requests: got %v, want [%s]", closed.PullRequestIds, aws.ToString(id))
	}
}

// TestPullRequestRevisions: moving the source branch makes a new revision, which needs approving again.
func TestPullRequestRevisions(t *testing.T) {
	a := newAppRepo(t)
	srv, c, repo, first := a.srv, a.c, a.git, a.feature
	pr := a.openPullRequest(t)
	if got := aws.ToString(pr.PullRequestTargets[0].DestinationReference); got != "refs/heads/main" {
		t.Errorf("destination: got %s, want the default branch", got)
	}
	awstest.Call(t, c.CreatePullRequestApprovalRule, &codecommit.CreatePullRequestApprovalRuleInput{PullRequestId: pr.PullRequestId,
		ApprovalRuleName: aws.String("two"), ApprovalRuleContent: aws.String(`{"Version":"2018-11-08","Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":1}]}`)})
	rc := reviewer(t, srv, "reviewer")
	awstest.Call(t, rc.UpdatePullRequestApprovalState, &codecommit.UpdatePullRequestApprovalStateInput{PullRequestId: pr.PullRequestId,
		RevisionId: pr.RevisionId, ApprovalState: types.ApprovalStateApprove})

	second := commitTo(t, c, "feature", first, map[string]string{"g.txt": "more\n"})
	updated := awstest.Call(t, c.GetPullRequest, &codecommit.GetPullRequestInput{PullRequestId: pr.PullRequestId}).PullRequest
	if aws.ToString(updated.RevisionId) == aws.ToString(pr.RevisionId) || aws.ToString(updated.PullRequestTargets[0].SourceCommit) != second {
		t.Fatalf("after a push: got revision %s source %s, want a new revision at %s", aws.ToString(updated.RevisionId),
			aws.ToString(updated.PullRequestTargets[0].SourceCommit), second)
	}
	_, err := rc.EvaluatePullRequestApprovalRules(context.Background(), &codecommit.EvaluatePullRequestApprovalRulesInput{PullRequestId: pr.PullRequestId, RevisionId: pr.RevisionId})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "RevisionNotCurrentException", Status: 400})
	eval := awstest.Call(t, c.EvaluatePullRequestApprovalRules, &codecommit.EvaluatePullRequestApprovalRulesInput{PullRequestId: pr.PullRequestId, RevisionId: updated.RevisionId}).Evaluation
	if eval.Approved {
		t.Errorf("new revision: got approved, want the old approval not to count")
	}
	awstest.Call(t, c.OverridePullRequestApprovalRules, &codecommit.OverridePullRequestApprovalRulesInput{PullRequestId: pr.PullRequestId,
		RevisionId: updated.RevisionId, OverrideStatus: types.OverrideStatusOverride})
	state := awstest.Call(t, c.GetPullRequestOverrideState, &codecommit.GetPullRequestOverrideStateInput{PullRequestId: pr.PullRequestId, RevisionId: updated.RevisionId})
	if !state.Overridden || aws.ToString(state.Overrider) != "arn:aws:iam::000000000000:root" {
		t.Errorf("override state: got %v by %s", state.Overridden, aws.ToString(state.Overrider))
	}
	merged := awstest.Call(t, c.MergePullRequestByFastForward, &codecommit.MergePullRequestByFastForwardInput{PullRequestId: pr.PullRequestId,
		RepositoryName: aws.String("app")}).PullRequest
	if tip, _ := repo.ResolveRef(context.Background(), "refs/heads/main"); tip != second || !merged.PullRequestTargets[0].MergeMetadata.IsMerged {
		t.Errorf("fast-forward: got main at %s merged %v, want %s", tip, merged.PullRequestTargets[0].MergeMetadata.IsMerged, second)
	}
}

func TestMergeBranches(t *testing.T) {
	srv, c := start(t)
	meta := createRepository(t, c, "app")
	repo := repoOnDisk(srv, meta)
	base := commitTo(t, c, "main", "", map[string]string{"f.txt": baseText})
	commitTo(t, c, "a", base, map[string]string{"a.txt": "a\n"})
	commitTo(t, c, "b", base, map[string]string{"b.txt": "b\n"})
	app := aws.String("app")

	_, err := c.MergeBranchesByFastForward(context.Background(), &codecommit.MergeBranchesByFastForwardInput{RepositoryName: app,
		SourceCommitSpecifier: aws.String("a"), DestinationCommitSpecifier: aws.String("b")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ManualMergeRequiredException", Status: 400})
	ff := awstest.Call(t, c.MergeBranchesByFastForward, &codecommit.MergeBranchesByFastForwardInput{RepositoryName: app,
		SourceCommitSpecifier: aws.String("a"), DestinationCommitSpecifier: aws.String("main")})
	squash := awstest.Call(t, c.MergeBranchesBySquash, &codecommit.MergeBranchesBySquashInput{RepositoryName: app,
		SourceCommitSpecifier: aws.String("b"), DestinationCommitSpecifier: aws.String("main"), AuthorName: aws.String("Squasher")})
	commit, err := repo.ReadCommit(context.Background(), aws.ToString(squash.CommitId))
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(commit.Parents, []string{aws.ToString(ff.CommitId)}) || commit.Author.Name != "Squasher" {
		t.Errorf("squash commit: got parents %v author %q, want one parent, the fast-forwarded main", commit.Parents, commit.Author.Name)
	}
	entries, err := repo.LsTree(context.Background(), aws.ToString(squash.CommitId), "", true)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range entries {
		paths = append(paths, e.Path)
	}
	if !slices.Equal(paths, []string{"a.txt", "b.txt", "f.txt"}) {
		t.Errorf("squashed tree: got %v", paths)
	}
	_, err = c.MergeBranchesByThreeWay(context.Background(), &codecommit.MergeBranchesByThreeWayInput{RepositoryName: app,
		SourceCommitSpecifier: aws.String("b"), DestinationCommitSpecifier: aws.String("a"), Email: aws.String("<bad>")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidEmailException", Status: 400})
	unref := awstest.Call(t, c.CreateUnreferencedMergeCommit, &codecommit.CreateUnreferencedMergeCommitInput{RepositoryName: app,
		SourceCommitSpecifier: aws.String("b"), DestinationCommitSpecifier: aws.String("a"), MergeOption: types.MergeOptionTypeEnumThreeWayMerge})
	if tip, _ := repo.ResolveRef(context.Background(), "refs/heads/a"); tip == aws.ToString(unref.CommitId) {
		t.Errorf("CreateUnreferencedMergeCommit moved branch a")
	}
}

func TestPullRequestErrors(t *testing.T) {
	a := newAppRepo(t)
	c, base := a.c, a.base
	target := func(src, dst string) []types.Target {
		return []types.Target{{RepositoryName: aws.String("app"), SourceReference: aws.String(src), DestinationReference: aws.String(dst)}}
	}
	pr := awstest.Call(t, c.CreatePullRequest, &codecommit.CreatePullRequestInput{Title: aws.String("t"), ClientRequestToken: aws.String("tok"), Targets: target("feature", "main")}).PullRequest
	rule := `{"Version":"2018-11-08","Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":1}]}`
	awstest.Call(t, c.CreatePullRequestApprovalRule, &codecommit.CreatePullRequestApprovalRuleInput{PullRequestId: pr.PullRequestId, ApprovalRuleName: aws.String("r"), ApprovalRuleContent: &rule})
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "same source and destination", Call: awstest.Fails(c.CreatePullRequest, &codecommit.CreatePullRequestInput{Title: aws.String("t"), Targets: target("main", "main")}),
			Want: awstest.APIError{Code: "SourceAndDestinationAreSameException", Status: 400}},
		{Name: "tag as source", Call: awstest.Fails(c.CreatePullRequest, &codecommit.CreatePullRequestInput{Title: aws.String("t"), Targets: target("refs/tags/v1", "main")}),
			Want: awstest.APIError{Code: "ReferenceTypeNotSupportedException", Status: 400}},
		{Name: "missing source branch", Call: awstest.Fails(c.CreatePullRequest, &codecommit.CreatePullRequestInput{Title: aws.String("t"), Targets: target("nope", "main")}),
			Want: awstest.APIError{Code: "ReferenceDoesNotExistException", Status: 400}},
		{Name: "missing repository", Call: awstest.Fails(c.CreatePullRequest, &codecommit.CreatePullRequestInput{Title: aws.String("t"),
			Targets: []types.Target{{RepositoryName: aws.String("nope"), SourceReference: aws.String("feature")}}}),
			Want: awstest.APIError{Code: "RepositoryDoesNotExistException", Status: 400}},
		{Name: "token reused for another pull request", Call: awstest.Fails(c.CreatePullRequest, &codecommit.CreatePullRequestInput{Title: aws.String("other"),
			ClientRequestToken: aws.String("tok"), Targets: target("feature", "main")}),
			Want: awstest.APIError{Code: "IdempotencyParameterMismatchException", Status: 400}},
		{Name: "title too long", Call: awstest.Fails(c.UpdatePullRequestTitle, &codecommit.UpdatePullRequestTitleInput{PullRequestId: pr.PullRequestId, Title: aws.String(strings.Repeat("x", 151))}),
			Want: awstest.APIError{Code: "InvalidTitleException", Status: 400}},
		{Name: "pull request ID not a number", Call: awstest.Fails(c.GetPullRequest, &codecommit.GetPullRequestInput{PullRequestId: aws.String("abc")}),
			Want: awstest.APIError{Code: "InvalidPullRequestIdException", Status: 400}},
		{Name: "unknown pull request", Call: awstest.Fails(c.GetPullRequest, &codecommit.GetPullRequestInput{PullRequestId: aws.String("999")}),
			Want: awstest.APIError{Code: "PullRequestDoesNotExistException", Status: 400}},
		{Name: "rule content not JSON", Call: awstest.Fails(c.CreatePullRequestApprovalRule, &codecommit.CreatePullRequestApprovalRuleInput{PullRequestId: pr.PullRequestId,
			ApprovalRuleName: aws.String("bad"), ApprovalRuleContent: aws.String("{")}),
			Want: awstest.APIError{Code: "InvalidApprovalRuleContentException", Status: 400}},
		{Name: "rule name taken", Call: awstest.Fails(c.CreatePullRequestApprovalRule, &codecommit.CreatePullRequestApprovalRuleInput{PullRequestId: pr.PullRequestId,
			ApprovalRuleName: aws.String("r"), ApprovalRuleContent: &rule}),
			Want: awstest.APIError{Code: "ApprovalRuleNameAlreadyExistsException", Status: 400}},
		{Name: "update a missing rule", Call: awstest.Fails(c.UpdatePullRequestApprovalRuleContent, &codecommit.UpdatePullRequestApprovalRuleContentInput{PullRequestId: pr.PullRequestId,
			ApprovalRuleName: aws.String("nope"), NewRuleContent: &rule}),
			Want: awstest.APIError{Code: "ApprovalRuleDoesNotExistException", Status: 400}},
		{Name: "stale revision", Call: awstest.Fails(c.UpdatePullRequestApprovalState, &codecommit.UpdatePullRequestApprovalStateInput{PullRequestId: pr.PullRequestId,
			RevisionId: aws.String("0000"), ApprovalState: types.ApprovalStateApprove}),
			Want: awstest.APIError{Code: "RevisionNotCurrentException", Status: 400}},
		{Name: "merge with another repository", Call: awstest.Fails(c.MergePullRequestByFastForward, &codecommit.MergePullRequestByFastForwardInput{PullRequestId: pr.PullRequestId,
			RepositoryName: aws.String("other")}),
			Want: awstest.APIError{Code: "RepositoryNotAssociatedWithPullRequestException", Status: 400}},
		{Name: "merge an old source commit", Call: awstest.Fails(c.MergePullRequestByFastForward, &codecommit.MergePullRequestByFastForwardInput{PullRequestId: pr.PullRequestId,
			RepositoryName: aws.String("app"), SourceCommitId: aws.String(base)}),
			Want: awstest.APIError{Code: "TipOfSourceReferenceIsDifferentException", Status: 400}},
		{Name: "template content version", Call: awstest.Fails(c.CreateApprovalRuleTemplate, &codecommit.CreateApprovalRuleTemplateInput{ApprovalRuleTemplateName: aws.String("t"),
			ApprovalRuleTemplateContent: aws.String(`{"Version":"2000-01-01","Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":1}]}`)}),
			Want: awstest.APIError{Code: "InvalidApprovalRuleTemplateContentException", Status: 400}},
		{Name: "missing template", Call: awstest.Fails(c.GetApprovalRuleTemplate, &codecommit.GetApprovalRuleTemplateInput{ApprovalRuleTemplateName: aws.String("nope")}),
			Want: awstest.APIError{Code: "ApprovalRuleTemplateDoesNotExistException", Status: 400}},
		{Name: "merge with an unknown commit", Call: awstest.Fails(c.MergeBranchesByThreeWay, &codecommit.MergeBranchesByThreeWayInput{RepositoryName: aws.String("app"),
			SourceCommitSpecifier: aws.String("nope"), DestinationCommitSpecifier: aws.String("main")}),
			Want: awstest.APIError{Code: "CommitDoesNotExistException", Status: 400}},
		{Name: "no conflict files", Call: awstest.Fails(c.GetMergeConflicts, &codecommit.GetMergeConflictsInput{RepositoryName: aws.String("app"),
			SourceCommitSpecifier: aws.String("feature"), DestinationCommitSpecifier: aws.String("main"), MergeOption: types.MergeOptionTypeEnumThreeWayMerge,
			MaxConflictFiles: aws.Int32(0)}),
			Want: awstest.APIError{Code: "InvalidMaxConflictFilesException", Status: 400}},
		{Name: "conflict resolution names a file twice", Call: awstest.Fails(c.CreateUnreferencedMergeCommit, &codecommit.CreateUnreferencedMergeCommitInput{RepositoryName: aws.String("app"),
			SourceCommitSpecifier: aws.String("feature"), DestinationCommitSpecifier: aws.String("main"), MergeOption: types.MergeOptionTypeEnumThreeWayMerge,
			ConflictResolution: &types.ConflictResolution{DeleteFiles: []types.DeleteFileEntry{{FilePath: aws.String("f.txt")}, {FilePath: aws.String("f.txt")}}}}),
			Want: awstest.APIError{Code: "MultipleConflictResolutionEntriesException", Status: 400}},
	})
	awstest.Call(t, c.UpdatePullRequestStatus, &codecommit.UpdatePullRequestStatusInput{PullRequestId: pr.PullRequestId, PullRequestStatus: types.PullRequestStatusEnumClosed})
	_, err := c.UpdatePullRequestTitle(context.Background(), &codecommit.UpdatePullRequestTitleInput{PullRequestId: pr.PullRequestId, Title: aws.String("new")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "PullRequestAlreadyClosedException", Status: 400})
}

// TestConflictDetailLevels: changes to different lines of one file merge at line level, conflict
// at file level, and merge again when the strategy is AUTOMERGE.
func TestConflictDetailLevels(t *testing.T) {
	_, c := start(t)
	createRepository(t, c, "app")
	base := commitTo(t, c, "main", "", map[string]string{"f.txt": "1\n2\n3\n4\n5\n6\n"})
	commitTo(t, c, "feature", base, map[string]string{"f.txt": "1\nfeature\n3\n4\n5\n6\n"})
	commitTo(t, c, "main", base, map[string]string{"f.txt": "1\n2\n3\n4\nmain\n6\n"})
	for _, tt := range []struct {
		level     types.ConflictDetailLevelTypeEnum
		strategy  types.ConflictResolutionStrategyTypeEnum
		mergeable bool
		conflicts []string
	}{
		{types.ConflictDetailLevelTypeEnumLineLevel, "", true, nil},
		{types.ConflictDetailLevelTypeEnumFileLevel, "", false, []string{"f.txt"}},
		{types.ConflictDetailLevelTypeEnumFileLevel, types.ConflictResolutionStrategyTypeEnumAutomerge, true, []string{"f.txt"}},
	} {
		got := awstest.Call(t, c.GetMergeConflicts, &codecommit.GetMergeConflictsInput{RepositoryName: aws.String("app"),
			SourceCommitSpecifier: aws.String("feature"), DestinationCommitSpecifier: aws.String("main"), MergeOption: types.MergeOptionTypeEnumThreeWayMerge,
			ConflictDetailLevel: tt.level, ConflictResolutionStrategy: tt.strategy})
		paths := awstest.Strings(got.ConflictMetadataList, func(m types.ConflictMetadata) *string { return m.FilePath })
		if got.Mergeable != tt.mergeable || !cmp.Equal(paths, tt.conflicts, cmpopts.EquateEmpty()) {
			t.Errorf("%s %s: got mergeable %v conflicts %v, want %v %v", tt.level, tt.strategy, got.Mergeable, paths, tt.mergeable, tt.conflicts)
		}
	}
	batch := awstest.Call(t, c.BatchDescribeMergeConflicts, &codecommit.BatchDescribeMergeConflictsInput{RepositoryName: aws.String("app"),
		SourceCommitSpecifier: aws.String("feature"), DestinationCommitSpecifier: aws.String("main"), MergeOption: types.MergeOptionTypeEnumSquashMerge,
		ConflictDetailLevel: types.ConflictDetailLevelTypeEnumFileLevel})
	if len(batch.Conflicts) != 1 {
		t.Fatalf("BatchDescribeMergeConflicts: got %d conflicts, want 1", len(batch.Conflicts))
	}
	ops := batch.Conflicts[0].ConflictMetadata.MergeOperations
	if ops.Source != types.ChangeTypeEnumModified || ops.Destination != types.ChangeTypeEnumModified || aws.ToString(batch.BaseCommitId) != base {
		t.Errorf("merge operations: got %+v base %s, want M and M from %s", ops, aws.ToString(batch.BaseCommitId), base)
	}
}

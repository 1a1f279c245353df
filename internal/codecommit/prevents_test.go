package codecommit

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/codecommit"
	"overcast/internal/bus"
	"overcast/internal/service/servicetest"
)

// TestPullRequestEventsOnTheBus: creating, commenting on and closing a pull request publish
// the events an EventBridge rule on CodeCommit sees.
func TestPullRequestEventsOnTheBus(t *testing.T) {
	env := servicetest.Env(t)
	s := New(env, Options{})
	ctx := context.Background()
	var mu sync.Mutex
	var got []string
	_, err := env.Bus.Subscribe(ctx, "test", bus.Pattern{Source: EventSource, Types: []string{PullRequestEventType, CommentEventType}},
		func(_ context.Context, ev bus.Event) error {
			var d struct{ Event, PullRequestStatus, IsMerged string }
			err := json.Unmarshal(ev.Detail, &d)
			mu.Lock()
			got = append(got, ev.Type+" "+d.Event+" "+d.PullRequestStatus+" "+d.IsMerged)
			mu.Unlock()
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	base, feature, pr := openPullRequest(t, s, ctx)
	id := pr.PullRequest.PullRequestId
	if _, err := s.PostCommentForPullRequest(ctx, &api.PostCommentForPullRequestInput{PullRequestId: id, RepositoryName: new("app"),
		BeforeCommitId: base.CommitId, AfterCommitId: feature.CommitId, Content: new("Looks good.")}); err != nil {
		t.Fatal(err)
	}
	// A commit on the source branch is a new revision at once, without anyone reading the pull request.
	if _, err := s.CreateCommit(ctx, &api.CreateCommitInput{RepositoryName: new("app"), BranchName: new("feature"), ParentCommitId: feature.CommitId,
		PutFiles: api.PutFileEntries{{FilePath: new("g.txt"), FileContent: []byte("more\n")}}}); err != nil {
		t.Fatal(err)
	}
	servicetest.WaitFor(t, "the source branch update", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.ContainsFunc(got, func(e string) bool { return strings.Contains(e, "pullRequestSourceBranchUpdated") })
	})
	if _, err := s.UpdatePullRequestStatus(ctx, &api.UpdatePullRequestStatusInput{PullRequestId: id, PullRequestStatus: new(statusClosed)}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		PullRequestEventType + " pullRequestCreated Open False",
		CommentEventType + " commentOnPullRequestCreated  ",
		PullRequestEventType + " pullRequestSourceBranchUpdated Open False",
		PullRequestEventType + " pullRequestStatusChanged Closed False",
	}
	servicetest.WaitFor(t, "four pull request events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= len(want)
	})
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// openPullRequest makes repository app, with a commit on main and one on
// feature, and a pull request of feature into main.
func openPullRequest(t *testing.T, s *Service, ctx context.Context) (base, feature *api.CreateCommitOutput, pr *api.CreatePullRequestOutput) {
	t.Helper()
	var err error
	if _, err = s.CreateRepository(ctx, &api.CreateRepositoryInput{RepositoryName: new("app")}); err != nil {
		t.Fatal(err)
	}
	base, err = s.CreateCommit(ctx, &api.CreateCommitInput{RepositoryName: new("app"), BranchName: new("main"),
		PutFiles: api.PutFileEntries{{FilePath: new("f.txt"), FileContent: []byte("one\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	feature, err = s.CreateCommit(ctx, &api.CreateCommitInput{RepositoryName: new("app"), BranchName: new("feature"), ParentCommitId: base.CommitId,
		PutFiles: api.PutFileEntries{{FilePath: new("f.txt"), FileContent: []byte("two\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	pr, err = s.CreatePullRequest(ctx, &api.CreatePullRequestInput{Title: new("Feature"),
		Targets: api.TargetList{{RepositoryName: new("app"), SourceReference: new("feature")}}})
	if err != nil {
		t.Fatal(err)
	}
	return base, feature, pr
}

package codecommit

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/codecommit"
	"overcast/internal/awsproto"
	"overcast/internal/bus"
	"overcast/internal/git"
	"overcast/internal/service"
	"overcast/internal/service/servicetest"
)

// topics records what triggers publish.
type topics struct {
	mu       sync.Mutex
	messages []string
}

func (t *topics) Publish(_ context.Context, sourceARN, topicARN, subject, message string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.messages = append(t.messages, topicARN+" "+message)
	return nil
}

func (t *topics) published() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.messages...)
}

// userGit runs git as a user would in dir, with an identity and none of
// the machine's configuration, and returns its trimmed output.
func userGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "HOME="+dir,
		"GIT_AUTHOR_NAME=Ada", "GIT_AUTHOR_EMAIL=ada@example.com", "GIT_COMMITTER_NAME=Ada", "GIT_COMMITTER_EMAIL=ada@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestPushIsReadThroughTheAPI pushes with plain git to the repository's
// directory, as the git data plane does, reports the push, and reads it
// back: the default branch, the file, the event on the bus and the
// trigger's notification.
func TestPushIsReadThroughTheAPI(t *testing.T) {
	env := servicetest.Env(t)
	sns := &topics{}
	s := New(env, Options{Topics: sns})
	ctx := context.Background()
	if _, err := s.CreateRepository(ctx, &api.CreateRepositoryInput{RepositoryName: new("app")}); err != nil {
		t.Fatal(err)
	}
	topic := "arn:aws:sns:us-east-1:000000000000:pushes"
	if _, err := s.PutRepositoryTriggers(ctx, &api.PutRepositoryTriggersInput{RepositoryName: new("app"), Triggers: api.RepositoryTriggersList{
		{Name: new("all"), DestinationArn: new(topic), Events: api.RepositoryTriggerEventList{"all"}, CustomData: new("hi")},
		{Name: new("deletes"), DestinationArn: new(topic), Events: api.RepositoryTriggerEventList{"deleteReference"}},
	}}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var details []stateChangeDetail
	_, err := env.Bus.Subscribe(ctx, "test", bus.Pattern{Source: EventSource, Types: []string{StateChangeEventType}}, func(_ context.Context, ev bus.Event) error {
		var d stateChangeDetail
		err := json.Unmarshal(ev.Detail, &d)
		mu.Lock()
		details = append(details, d)
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	dir, err := s.RepositoryDir(ctx, overcast.DefaultAccountID, overcast.DefaultRegion, "app")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	userGit(t, work, "init", "--quiet", "--initial-branch=trunk")
	if err := os.WriteFile(filepath.Join(work, "hello.txt"), []byte("pushed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	userGit(t, work, "add", "hello.txt")
	userGit(t, work, "commit", "--quiet", "-m", "first")
	commit := userGit(t, work, "rev-parse", "HEAD")
	userGit(t, work, "push", "--quiet", "file://"+dir, "trunk")
	if err := s.RecordPush(ctx, overcast.DefaultAccountID, overcast.DefaultRegion, "app", []RefChange{{Ref: "refs/heads/trunk", New: commit}}); err != nil {
		t.Fatal(err)
	}

	meta, err := s.GetRepository(ctx, &api.GetRepositoryInput{RepositoryName: new("app")})
	if err != nil || *meta.RepositoryMetadata.DefaultBranch != "trunk" {
		t.Fatalf("GetRepository after the first push: got %+v, %v, want default branch trunk", meta, err)
	}
	file, err := s.GetFile(ctx, &api.GetFileInput{RepositoryName: new("app"), FilePath: new("hello.txt")})
	if err != nil || string(file.FileContent) != "pushed\n" || *file.CommitId != commit {
		t.Fatalf("GetFile of the pushed file: got %+v, %v", file, err)
	}
	userGit(t, work, "tag", "v1")
	userGit(t, work, "push", "--quiet", "file://"+dir, "v1")
	for _, spec := range []string{"HEAD", "trunk", "refs/heads/trunk", "v1", "refs/tags/v1", commit} {
		got, err := s.GetFile(ctx, &api.GetFileInput{RepositoryName: new("app"), FilePath: new("hello.txt"), CommitSpecifier: new(spec)})
		if err != nil || *got.CommitId != commit {
			t.Errorf("GetFile at %s: got %+v, %v, want commit %s", spec, got, err, commit)
		}
	}
	_, err = s.PutFile(ctx, &api.PutFileInput{RepositoryName: new("app"), BranchName: new("v1"), ParentCommitId: &commit,
		FilePath: new("x"), FileContent: []byte("x")})
	if e, ok := errors.AsType[*awsproto.Error](err); !ok || e.Code != "BranchNameIsTagNameException" {
		t.Errorf("PutFile on the tag v1: got %v, want BranchNameIsTagNameException", err)
	}
	c, err := s.GetCommit(ctx, &api.GetCommitInput{RepositoryName: new("app"), CommitId: &commit})
	if err != nil || *c.Commit.Message != "first\n" || *c.Commit.Author.Name != "Ada" {
		t.Fatalf("GetCommit of the pushed commit: got %+v, %v", c, err)
	}

	// An API commit on the pushed branch, then a push deleting it.
	put, err := s.PutFile(ctx, &api.PutFileInput{RepositoryName: new("app"), BranchName: new("side"), ParentCommitId: &commit,
		FilePath: new("more.txt"), FileContent: []byte("more")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordPush(ctx, overcast.DefaultAccountID, overcast.DefaultRegion, "app",
		[]RefChange{{Ref: "refs/heads/side", Old: *put.CommitId}}); err != nil {
		t.Fatal(err)
	}

	want := []stateChangeDetail{
		{CallerUserArn: "arn:aws:iam::000000000000:root", CommitID: commit, Event: "referenceCreated", ReferenceFullName: "refs/heads/trunk",
			ReferenceName: "trunk", ReferenceType: "branch", RepositoryID: *meta.RepositoryMetadata.RepositoryId, RepositoryName: "app"},
		{CallerUserArn: "arn:aws:iam::000000000000:root", CommitID: *put.CommitId, Event: "referenceCreated", ReferenceFullName: "refs/heads/side",
			ReferenceName: "side", ReferenceType: "branch", RepositoryID: *meta.RepositoryMetadata.RepositoryId, RepositoryName: "app"},
		{CallerUserArn: "arn:aws:iam::000000000000:root", CommitID: *put.CommitId, OldCommitID: *put.CommitId, Event: "referenceDeleted",
			ReferenceFullName: "refs/heads/side", ReferenceName: "side", ReferenceType: "branch", RepositoryID: *meta.RepositoryMetadata.RepositoryId,
			RepositoryName: "app"},
	}
	servicetest.WaitFor(t, "three state change events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(details) >= len(want)
	})
	mu.Lock()
	if diff := cmp.Diff(want, details); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	mu.Unlock()

	// "all" hears all three changes, "deletes" only the deletion.
	got := sns.published()
	if len(got) != 4 {
		t.Fatalf("trigger notifications: got %d, want 4:\n%s", len(got), strings.Join(got, "\n"))
	}
	var n notification
	if err := json.Unmarshal([]byte(strings.TrimPrefix(got[0], topic+" ")), &n); err != nil {
		t.Fatal(err)
	}
	r := n.Records[0]
	if r.EventTriggerName != "all" || r.CustomData != "hi" || r.EventSourceARN != "arn:aws:codecommit:us-east-1:000000000000:app" ||
		!cmp.Equal(r.CodeCommit.References, []reference{{Commit: commit, Ref: "refs/heads/trunk", Created: true}}) {
		t.Errorf("first notification: got %+v", r)
	}
	if !strings.Contains(got[3], `"eventTriggerName":"deletes"`) || !strings.Contains(got[3], `"deleted":true`) {
		t.Errorf("the deletion's notification to the deletes trigger: got %s", got[3])
	}
}

// TestFilesOverTheAPILimit: a file pushed with git may exceed the 6 MB the
// API reads; GetFile and GetBlob refuse it as AWS does.
func TestFilesOverTheAPILimit(t *testing.T) {
	env, s, dir := withRepository(t, "big")
	ctx := context.Background()
	repo := git.Open(dir)
	who := git.Signature{Name: "Ada", Email: "ada@example.com", When: env.Clock.Now()}
	commit, err := repo.WriteCommit(ctx, git.NewCommit{Author: who, Committer: who,
		Changes: []git.FileChange{{Path: "big.bin", Mode: git.ModeFile, Content: make([]byte, maxFileSize+1)}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.UpdateRef(ctx, "refs/heads/main", commit, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordPush(ctx, overcast.DefaultAccountID, overcast.DefaultRegion, "big",
		[]RefChange{{Ref: "refs/heads/main", Old: git.ZeroID, New: commit}}); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetFile(ctx, &api.GetFileInput{RepositoryName: new("big"), FilePath: new("big.bin")})
	if e, ok := errors.AsType[*awsproto.Error](err); !ok || e.Code != "FileTooLargeException" {
		t.Errorf("GetFile of a 6 MB + 1 file: got %v, want FileTooLargeException", err)
	}
	entry, err := repo.Entry(ctx, commit, "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.GetBlob(ctx, &api.GetBlobInput{RepositoryName: new("big"), BlobId: new(entry.ID)})
	if e, ok := errors.AsType[*awsproto.Error](err); !ok || e.Code != "FileTooLargeException" {
		t.Errorf("GetBlob of a 6 MB + 1 blob: got %v, want FileTooLargeException", err)
	}
}

// TestStartRemovesWhatACrashLeft: git data no repository record names (a
// creation that never committed) and a commit's temporary index go; a
// repository's data stays.
func TestStartRemovesWhatACrashLeft(t *testing.T) {
	_, s, kept := withRepository(t, "kept")
	ctx := context.Background()
	orphan := filepath.Join(filepath.Dir(kept), "0b0e3e0e-0000-4000-8000-000000000000.git")
	if _, err := git.InitBare(ctx, orphan, "main"); err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(kept, "overcast-index-123")
	if err := os.WriteFile(index, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s.RepositoryDir(ctx, overcast.DefaultAccountID, overcast.DefaultRegion, "nope")
	if e, ok := errors.AsType[*awsproto.Error](err); !errors.Is(err, ErrNoRepository) || !ok || e.Code != "RepositoryDoesNotExistException" {
		t.Errorf("RepositoryDir of a missing repository: got %v, want ErrNoRepository and RepositoryDoesNotExistException", err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{kept: true, orphan: false, index: false} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("%s after Start: exists %v, want %v", path, err == nil, want)
		}
	}
}

// withRepository is a Service, on an environment of its own, holding one
// new repository, and that repository's git directory.
func withRepository(t *testing.T, name string) (*service.Env, *Service, string) {
	t.Helper()
	env := servicetest.Env(t)
	s := New(env, Options{})
	ctx := context.Background()
	if _, err := s.CreateRepository(ctx, &api.CreateRepositoryInput{RepositoryName: new(name)}); err != nil {
		t.Fatal(err)
	}
	dir, err := s.RepositoryDir(ctx, overcast.DefaultAccountID, overcast.DefaultRegion, name)
	if err != nil {
		t.Fatal(err)
	}
	return env, s, dir
}

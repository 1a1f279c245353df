package git_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/git"
)

var when = time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("-0800", -8*3600))

func newRepo(t *testing.T) *git.Repo {
	t.Helper()
	r, err := git.InitBare(context.Background(), filepath.Join(t.TempDir(), "r.git"), "main")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// commit writes changes on parent and moves main to the result.
func commit(t *testing.T, r *git.Repo, parent string, changes ...git.FileChange) string {
	t.Helper()
	ctx := context.Background()
	who := git.Signature{Name: "Ada", Email: "ada@example.com", When: when}
	id, err := r.WriteCommit(ctx, git.NewCommit{Parent: parent, Changes: changes, Author: who, Committer: who, Message: "change\n"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateRef(ctx, "refs/heads/main", id, parent); err != nil {
		t.Fatal(err)
	}
	return id
}

func file(path, content string) git.FileChange {
	return git.FileChange{Path: path, Mode: git.ModeFile, Content: []byte(content)}
}

func TestWriteCommitAndReadItBack(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	first := commit(t, r, "", file("a.txt", "a"), file("dir/b.txt", "b"),
		git.FileChange{Path: "link", Mode: git.ModeSymlink, Content: []byte("a.txt")})
	second := commit(t, r, first, git.FileChange{Path: "a.txt", Delete: true}, file("dir/b.txt", "B"),
		git.FileChange{Path: "dir/run", Mode: git.ModeExecutable, Content: []byte("#!/bin/sh")})

	c, err := r.ReadCommit(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if c.Author.Raw != "1772395200 -0800" || !c.Author.When.Equal(when) || c.Author.Name != "Ada" || !cmp.Equal(c.Parents, []string{first}) || c.Message != "change\n" {
		t.Errorf("ReadCommit: got %+v", c)
	}
	head, err := r.ResolveRef(ctx, "refs/heads/main")
	if err != nil || head != second {
		t.Errorf("ResolveRef main: got %s, %v, want %s", head, err, second)
	}

	entries, err := r.LsTree(ctx, first, "", true)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		got[e.Path] = e.Mode + " " + e.Type
	}
	want := map[string]string{"a.txt": "100644 blob", "dir/b.txt": "100644 blob", "link": "120000 blob"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LsTree recursive (-want +got):\n%s", diff)
	}
	dir, err := r.LsTree(ctx, second, "dir", false)
	if err != nil || len(dir) != 2 || dir[0].Path != "dir/b.txt" || dir[1].Mode != git.ModeExecutable {
		t.Errorf("LsTree dir: got %+v, %v", dir, err)
	}
	if _, err := r.LsTree(ctx, second, "a.txt", false); !errors.Is(err, git.ErrNotFound) {
		t.Errorf("LsTree of a file: got %v, want ErrNotFound", err)
	}

	changes, err := r.Diff(ctx, first, second)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ch := range changes {
		kinds = append(kinds, ch.Type+" "+ch.Path)
	}
	if diff := cmp.Diff([]string{"D a.txt", "M dir/b.txt", "A dir/run"}, kinds); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
	blob, err := r.ReadBlob(ctx, changes[1].AfterBlob, 0)
	if err != nil || string(blob) != "B" {
		t.Errorf("ReadBlob: got %q, %v", blob, err)
	}
	big := commit(t, r, second, file("big", "0123456789"), git.FileChange{Path: "sub", Mode: git.ModeSubmodule, BlobID: first})
	if sub, err := r.Entry(ctx, big, "sub"); err != nil || sub.Type != "commit" || sub.ID != first {
		t.Errorf("a submodule's entry: got %+v, %v, want a commit entry for %s", sub, err, first)
	}
	e, err := r.Entry(ctx, big, "big")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadBlob(ctx, e.ID, 5); !errors.Is(err, git.ErrTooLarge) {
		t.Errorf("ReadBlob over the limit: got %v, want ErrTooLarge", err)
	}
}

func TestUpdateRefIsACompareAndSwap(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	base := commit(t, r, "", file("a", "a"))
	who := git.Signature{Name: "Ada", Email: "ada@example.com", When: when}
	var wg sync.WaitGroup
	results := make([]error, 8)
	for i := range results {
		wg.Go(func() {
			id, err := r.WriteCommit(ctx, git.NewCommit{Parent: base, Changes: []git.FileChange{file("n", string(rune('a'+i)))},
				Author: who, Committer: who})
			if err == nil {
				err = r.UpdateRef(ctx, "refs/heads/main", id, base)
			}
			results[i] = err
		})
	}
	wg.Wait()
	won := 0
	for _, err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, git.ErrRefChanged):
			t.Errorf("a losing writer: got %v, want ErrRefChanged", err)
		}
	}
	if won != 1 {
		t.Errorf("writers that moved main from the same base: got %d, want 1", won)
	}
	if err := r.UpdateRef(ctx, "refs/heads/new", base, ""); err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateRef(ctx, "refs/heads/new", base, ""); !errors.Is(err, git.ErrRefChanged) {
		t.Errorf("creating an existing reference: got %v, want ErrRefChanged", err)
	}
	if err := r.UpdateRef(ctx, "refs/heads/new", git.ZeroID, base); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ResolveRef(ctx, "refs/heads/new"); !errors.Is(err, git.ErrNotFound) {
		t.Errorf("a deleted reference: got %v, want ErrNotFound", err)
	}
}

func TestCloneBranchTagAndCommit(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	first := commit(t, r, "", file("v", "1"))
	second := commit(t, r, first, file("v", "2"))
	if err := r.UpdateRef(ctx, "refs/tags/v1", first, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref, wantCommit, wantContent string
	}{
		{"", second, "2"},
		{"main", second, "2"},
		{"refs/heads/main", second, "2"},
		{"v1", first, "1"},
		{first, first, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "src")
			got, err := git.Clone(ctx, "file://"+r.Dir, dir, tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			content, err := os.ReadFile(filepath.Join(dir, "v"))
			if got != tt.wantCommit || err != nil || string(content) != tt.wantContent {
				t.Errorf("Clone %q: got commit %s, v=%q (%v); want %s, %q", tt.ref, got, content, err, tt.wantCommit, tt.wantContent)
			}
		})
	}
	if _, err := git.Clone(ctx, "file://"+r.Dir, filepath.Join(t.TempDir(), "x"), "nope"); !errors.Is(err, git.ErrNotFound) {
		t.Errorf("Clone of a missing ref: got %v, want ErrNotFound", err)
	}
}

func TestArchive(t *testing.T) {
	r := newRepo(t)
	id := commit(t, r, "", file("a.txt", "a"), file("dir/b.txt", "b"))
	var buf bytes.Buffer
	if err := r.Archive(context.Background(), &buf, id, "zip"); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
	}
	if diff := cmp.Diff([]string{"a.txt", "dir/", "dir/b.txt"}, names); diff != "" {
		t.Errorf("zip entries (-want +got):\n%s", diff)
	}
}

func TestValidBranchName(t *testing.T) {
	for name, want := range map[string]bool{
		"main": true, "feature/x": true, "v1.2": true, "a-b_c": true,
		"": false, "a..b": false, "-x": false, "a/": false, "/a": false, "a//b": false, "a.lock": false, ".a": false,
		"a/.b": false, "a b": false, "a~b": false, "a^b": false, "a:b": false, "a?b": false, "a*b": false, "a[b": false,
		`a\b`: false, "a@{b": false, "@": false, "a.": false, "a\x01": false,
	} {
		if got := git.ValidBranchName(name); got != want {
			t.Errorf("ValidBranchName(%q): got %v, want %v", name, got, want)
		}
	}
}

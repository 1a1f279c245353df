package git

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FileChange is one change of a commit WriteCommit makes.
type FileChange struct {
	Path string
	// Delete removes the file at Path.
	Delete bool
	// Mode is the file's mode (ModeFile, ModeExecutable, ModeSymlink).
	Mode string
	// Content is the file's new content. When nil, BlobID names an
	// existing blob instead (changing only a file's mode).
	Content []byte
	BlobID  string
}

// NewCommit is what WriteCommit writes.
type NewCommit struct {
	// Parent is the commit the changes apply to, "" for a first commit.
	Parent    string
	Changes   []FileChange
	Author    Signature
	Committer Signature
	Message   string
}

// WriteObject stores content as a blob and returns its ID.
func (r *Repo) WriteObject(ctx context.Context, content []byte) (string, error) {
	out, err := r.git(ctx, bytes.NewReader(content), "hash-object", "-w", "--stdin")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// WriteCommit writes a commit of c's changes on c.Parent without a work
// tree, and returns its ID; it moves no reference (UpdateRef does). The
// tree is built in a temporary index of the parent's tree, so that
// concurrent writers never share one.
func (r *Repo) WriteCommit(ctx context.Context, c NewCommit) (string, error) {
	index, err := os.CreateTemp(r.Dir, "overcast-index-*")
	if err != nil {
		return "", err
	}
	// git wants no file rather than an empty one: it only needs the name.
	index.Close()
	os.Remove(index.Name())
	defer os.Remove(index.Name())
	defer os.Remove(index.Name() + ".lock")
	withIndex := func(stdin []byte, args ...string) ([]byte, error) {
		return command{dir: r.Dir, args: args, stdin: bytes.NewReader(stdin),
			env: []string{"GIT_INDEX_FILE=" + filepath.Clean(index.Name())}}.run(ctx)
	}
	if c.Parent != "" {
		if _, err := withIndex(nil, "read-tree", c.Parent+"^{tree}"); err != nil {
			return "", err
		}
	} else if _, err := withIndex(nil, "read-tree", "--empty"); err != nil {
		return "", err
	}
	var info bytes.Buffer
	for _, ch := range c.Changes {
		if ch.Delete {
			fmt.Fprintf(&info, "0 %s\t%s\x00", ZeroID, ch.Path)
			continue
		}
		id := ch.BlobID
		if ch.Content != nil || id == "" {
			if id, err = r.WriteObject(ctx, ch.Content); err != nil {
				return "", err
			}
		}
		fmt.Fprintf(&info, "%s %s\t%s\x00", ch.Mode, id, ch.Path)
	}
	if _, err := withIndex(info.Bytes(), "update-index", "-z", "--index-info"); err != nil {
		return "", err
	}
	out, err := withIndex(nil, "write-tree")
	if err != nil {
		return "", err
	}
	return r.CommitTree(ctx, strings.TrimSpace(string(out)), c)
}

// CommitTree writes a commit of tree with c's parent, people and message
// (c.Changes are not used), and returns its ID.
func (r *Repo) CommitTree(ctx context.Context, tree string, c NewCommit, moreParents ...string) (string, error) {
	args := []string{"commit-tree", tree}
	for _, p := range append([]string{c.Parent}, moreParents...) {
		if p != "" {
			args = append(args, "-p", p)
		}
	}
	out, err := command{dir: r.Dir, args: args, stdin: strings.NewReader(c.Message), env: []string{
		"GIT_AUTHOR_NAME=" + c.Author.Name,
		"GIT_AUTHOR_EMAIL=" + c.Author.Email,
		"GIT_AUTHOR_DATE=" + gitDate(c.Author.When),
		"GIT_COMMITTER_NAME=" + c.Committer.Name,
		"GIT_COMMITTER_EMAIL=" + c.Committer.Email,
		"GIT_COMMITTER_DATE=" + gitDate(c.Committer.When),
	}}.run(ctx)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// Change is one difference between two trees.
type Change struct {
	Type       string // "A" added, "M" modified, "D" deleted
	Path       string
	BeforeMode string
	AfterMode  string
	BeforeBlob string // ZeroID when added
	AfterBlob  string // ZeroID when deleted
}

// Diff returns the files that differ between two commits (before ""
// compares after with an empty tree), limited to paths when any are given,
// in path order. A file that changed type (a file to a folder) is a
// deletion and an addition.
func (r *Repo) Diff(ctx context.Context, before, after string, paths ...string) ([]Change, error) {
	if before == "" {
		before = EmptyTreeID
	}
	for _, rev := range []string{before, after} {
		if err := checkRev(rev); err != nil {
			return nil, err
		}
	}
	args := []string{"diff-tree", "-r", "-z", "--raw", "--no-renames", "--no-abbrev", before, after}
	if len(paths) > 0 {
		args = append(append(args, "--"), paths...)
	}
	out, err := r.git(ctx, nil, args...)
	if err != nil {
		return nil, err
	}
	fields := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	var changes []Change
	for i := 0; i+1 < len(fields); i += 2 {
		meta := strings.Fields(strings.TrimPrefix(fields[i], ":"))
		if len(meta) != 5 {
			return nil, fmt.Errorf("git: diff-tree: unexpected record %q", fields[i])
		}
		ch := Change{BeforeMode: meta[0], AfterMode: meta[1], BeforeBlob: meta[2], AfterBlob: meta[3],
			Type: meta[4][:1], Path: fields[i+1]}
		if ch.Type == "T" {
			ch.Type = "M"
		}
		changes = append(changes, ch)
	}
	return changes, nil
}

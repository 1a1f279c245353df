package git

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Signature is who wrote or committed a commit, and when.
type Signature struct {
	Name  string
	Email string
	When  time.Time
	// Raw is the date as git stores it, "<unix seconds> <zone>"
	// (1484167798 -0800): what CodeCommit reports as a UserInfo's date.
	Raw string
}

// Commit is a parsed commit object.
type Commit struct {
	ID        string
	Tree      string
	Parents   []string
	Author    Signature
	Committer Signature
	Message   string
}

// ReadCommit reads the commit id.
func (r *Repo) ReadCommit(ctx context.Context, id string) (Commit, error) {
	if t, err := r.ObjectType(ctx, id); err != nil || t != "commit" {
		return Commit{}, fmt.Errorf("git: commit %s: %w", id, ErrNotFound)
	}
	out, err := r.git(ctx, nil, "cat-file", "commit", id)
	if err != nil {
		return Commit{}, err
	}
	c := Commit{ID: id}
	headers, message, _ := bytes.Cut(out, []byte("\n\n"))
	c.Message = string(message)
	for line := range strings.Lines(string(headers)) {
		key, value, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		switch key {
		case "tree":
			c.Tree = value
		case "parent":
			c.Parents = append(c.Parents, value)
		case "author":
			c.Author = parseSignature(value)
		case "committer":
			c.Committer = parseSignature(value)
		}
	}
	return c, nil
}

// parseSignature parses "Name <email> 1484167798 -0800".
func parseSignature(s string) Signature {
	var sig Signature
	open, close := strings.IndexByte(s, '<'), strings.LastIndexByte(s, '>')
	if open < 0 || close < open {
		return Signature{Name: s}
	}
	sig.Name = strings.TrimSpace(s[:open])
	sig.Email = s[open+1 : close]
	sig.Raw = strings.TrimSpace(s[close+1:])
	secs, zone, _ := strings.Cut(sig.Raw, " ")
	if n, err := strconv.ParseInt(secs, 10, 64); err == nil {
		sig.When = time.Unix(n, 0).In(zoneOf(zone))
	}
	return sig
}

// zoneOf is the fixed zone "+hhmm" or "-hhmm" names.
func zoneOf(zone string) *time.Location {
	if len(zone) != 5 {
		return time.UTC
	}
	h, err1 := strconv.Atoi(zone[1:3])
	m, err2 := strconv.Atoi(zone[3:5])
	if err1 != nil || err2 != nil {
		return time.UTC
	}
	offset := h*3600 + m*60
	if zone[0] == '-' {
		offset = -offset
	}
	return time.FixedZone(zone, offset)
}

// gitDate is t as git's "<unix seconds> <zone>".
func gitDate(t time.Time) string { return fmt.Sprintf("%d %s", t.Unix(), t.Format("-0700")) }

// Modes of tree entries, as git writes them.
const (
	ModeFile       = "100644"
	ModeExecutable = "100755"
	ModeSymlink    = "120000"
	ModeTree       = "040000"
	ModeSubmodule  = "160000"
)

// TreeEntry is one entry of a tree listing.
type TreeEntry struct {
	Mode string // 100644, 100755, 120000, 040000, 160000
	Type string // blob, tree, commit (a submodule)
	ID   string
	Path string // from the root of the tree listed, not the folder
}

// LsTree lists the entries of folder ("" for the root) in commit, or all
// the files below it when recursive (then without the trees themselves).
// A folder that does not exist, or is not a folder, is ErrNotFound.
func (r *Repo) LsTree(ctx context.Context, commit, folder string, recursive bool) ([]TreeEntry, error) {
	folder = strings.Trim(folder, "/")
	if err := checkRev(commit); err != nil {
		return nil, err
	}
	treeish := commit + "^{tree}"
	if folder != "" {
		treeish = commit + ":" + folder
		if t, err := r.ObjectType(ctx, treeish); err != nil || t != "tree" {
			return nil, fmt.Errorf("git: folder %s: %w", folder, ErrNotFound)
		}
	}
	args := []string{"ls-tree", "-z", "--full-tree"}
	if recursive {
		args = append(args, "-r")
	}
	out, err := r.git(ctx, nil, append(args, treeish)...)
	if err != nil {
		return nil, err
	}
	var entries []TreeEntry
	for rec := range strings.SplitSeq(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if rec == "" {
			continue
		}
		meta, path, _ := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if len(f) != 3 {
			return nil, fmt.Errorf("git: ls-tree: unexpected line %q", rec)
		}
		if folder != "" {
			path = folder + "/" + path
		}
		entries = append(entries, TreeEntry{Mode: f[0], Type: f[1], ID: f[2], Path: path})
	}
	return entries, nil
}

// Entry returns the entry at path in commit: a file, folder, symlink or
// submodule, or ErrNotFound.
func (r *Repo) Entry(ctx context.Context, commit, path string) (TreeEntry, error) {
	path = strings.Trim(path, "/")
	if err := checkRev(commit); err != nil {
		return TreeEntry{}, err
	}
	if path == "" {
		id, err := r.resolve(ctx, commit+"^{tree}")
		return TreeEntry{Mode: ModeTree, Type: "tree", ID: id}, err
	}
	out, err := r.git(ctx, nil, "ls-tree", "-z", "--full-tree", commit, "--", path)
	if err != nil {
		return TreeEntry{}, err
	}
	meta, got, _ := strings.Cut(strings.TrimSuffix(string(out), "\x00"), "\t")
	f := strings.Fields(meta)
	if len(f) != 3 || got != path {
		return TreeEntry{}, fmt.Errorf("git: %s: %w", path, ErrNotFound)
	}
	return TreeEntry{Mode: f[0], Type: f[1], ID: f[2], Path: path}, nil
}

// BlobSize returns the size of blob id.
func (r *Repo) BlobSize(ctx context.Context, id string) (int64, error) {
	if t, err := r.ObjectType(ctx, id); err != nil || t != "blob" {
		return 0, fmt.Errorf("git: blob %s: %w", id, ErrNotFound)
	}
	out, err := r.git(ctx, nil, "cat-file", "-s", id)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
}

// ReadBlob returns the content of blob id: ErrNotFound when it is not a
// blob, ErrTooLarge when it has more than limit bytes (limit 0: any size).
func (r *Repo) ReadBlob(ctx context.Context, id string, limit int64) ([]byte, error) {
	size, err := r.BlobSize(ctx, id)
	if err != nil {
		return nil, err
	}
	if limit > 0 && size > limit {
		return nil, fmt.Errorf("git: blob %s has %d bytes: %w", id, size, ErrTooLarge)
	}
	return r.git(ctx, nil, "cat-file", "blob", id)
}

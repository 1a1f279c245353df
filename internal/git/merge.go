package git

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// DetailLevel says what counts as a merge conflict, as CodeCommit's conflictDetailLevel does.
type DetailLevel string

const (
	// LineLevel: a conflict only where both sides changed the same lines (git's own rule).
	LineLevel DetailLevel = "LINE_LEVEL"
	// FileLevel: any file both sides changed, to different results, is a conflict.
	FileLevel DetailLevel = "FILE_LEVEL"
)

// Strategy is CodeCommit's conflictResolutionStrategy.
type Strategy string

const (
	StrategyNone              Strategy = "NONE"
	StrategyAcceptSource      Strategy = "ACCEPT_SOURCE"
	StrategyAcceptDestination Strategy = "ACCEPT_DESTINATION"
	StrategyAutomerge         Strategy = "AUTOMERGE"
)

// Version is one side's copy of a path in a merge; a zero Blob means the side has no such path.
type Version struct {
	Blob string
	Mode string
	Size int64
}

// Exists reports whether the side has the path.
func (v Version) Exists() bool { return v.Blob != "" }

// Conflict is one path the merge could not settle on its own.
type Conflict struct {
	Path                      string
	Base, Source, Destination Version
	// Content: both sides changed the contents (or one deleted what the other changed, or both added).
	Content bool
	// FileMode: both sides changed the mode to different ones.
	FileMode bool
	// ObjectType: the sides disagree about what the path is (file, symlink, submodule).
	ObjectType bool
	// AutoMergeable: only the file-level rule calls this a conflict; git merged the lines cleanly.
	AutoMergeable bool
	// Hunks of a line-level content conflict.
	Hunks []Hunk
}

// Hunk is one region where the sides' lines disagree.
type Hunk struct {
	Base, Source, Destination HunkSide
}

// HunkSide is a hunk as one side has it, with 1-based inclusive line numbers.
type HunkSide struct {
	StartLine, EndLine int
	Content            string
}

// MergeResult is a three-way merge of Source into Destination computed without a work tree.
type MergeResult struct {
	Base        string // the merge base commit; empty when the histories are unrelated
	Source      string
	Destination string
	// Tree is git's merged tree; conflicted files in it hold conflict markers.
	Tree      string
	Conflicts []Conflict
	// renamed are the extra paths git put in Tree for paths whose type differs between the sides.
	renamed map[string]string
}

// Clean reports whether the merge has no conflicts.
func (m *MergeResult) Clean() bool { return len(m.Conflicts) == 0 }

// ErrConflicts is returned when a merge result still has conflicts after resolution.
var ErrConflicts = errors.New("git: unresolved merge conflicts")

// gitWith runs git with extra environment (a temporary index) and stdin.
func (r *Repo) gitWith(ctx context.Context, env []string, stdin []byte, args ...string) (string, error) {
	out, err := command{dir: r.Dir, args: args, env: env, stdin: bytes.NewReader(stdin)}.run(ctx)
	return strings.TrimSpace(string(out)), err
}

// MergeBase returns the best common ancestor of two commits, or "" when they share no history.
func (r *Repo) MergeBase(ctx context.Context, a, b string) (string, error) {
	out, err := r.git(ctx, nil, "merge-base", a, b)
	if e, ok := errors.AsType[*Error](err); ok && e.exitCode() == 1 {
		return "", nil
	}
	return strings.TrimSpace(string(out)), err
}

// Merge merges source into destination (both commits) at the given detail level.
func (r *Repo) Merge(ctx context.Context, destination, source string, level DetailLevel) (*MergeResult, error) {
	base, err := r.MergeBase(ctx, destination, source)
	if err != nil {
		return nil, err
	}
	// merge-tree exits 1 for a merge with conflicts, and still writes its report.
	var out bytes.Buffer
	_, err = command{dir: r.Dir, out: &out, args: []string{"-c", "merge.conflictStyle=diff3",
		"merge-tree", "--write-tree", "-z", "--messages", "--allow-unrelated-histories", destination, source}}.run(ctx)
	if e, ok := errors.AsType[*Error](err); err != nil && !(ok && e.exitCode() == 1) {
		return nil, err
	}
	res := &MergeResult{Base: base, Source: source, Destination: destination, renamed: map[string]string{}}
	fields := strings.Split(out.String(), "\x00")
	res.Tree = fields[0]
	entries, messages := fields[1:], []string(nil)
	for i, entry := range entries {
		if entry == "" {
			entries, messages = entries[:i], entries[i+1:]
			break
		}
	}
	// When the sides disagree about a path's type, git records one of them under "<path>~<side>";
	// CodeCommit reports a single conflict for the path.
	renamed := res.renamed
	for len(messages) > 0 {
		n, err := strconv.Atoi(messages[0])
		if err != nil || len(messages) < n+3 {
			break
		}
		paths, kind := messages[1:1+n], messages[1+n]
		if kind == "CONFLICT (distinct modes)" && n == 2 {
			renamed[paths[1]] = paths[0]
		}
		messages = messages[n+3:]
	}
	byPath := map[string]*Conflict{}
	var order []string
	for _, entry := range entries {
		// "<mode> <object> <stage>\t<path>"; stage 1 is the base, 2 ours (destination), 3 theirs (source).
		meta, path, ok := strings.Cut(entry, "\t")
		parts := strings.Fields(meta)
		if !ok || len(parts) != 3 {
			return nil, fmt.Errorf("git merge-tree: unexpected entry %q", entry)
		}
		if original, ok := renamed[path]; ok {
			path = original
		}
		c := byPath[path]
		if c == nil {
			c = &Conflict{Path: path}
			byPath[path] = c
			order = append(order, path)
		}
		stages := map[string]*Version{"1": &c.Base, "2": &c.Destination, "3": &c.Source}
		if side := stages[parts[2]]; side != nil {
			*side = Version{Mode: parts[0], Blob: parts[1]}
		}
	}
	for _, path := range order {
		c := byPath[path]
		classify(c)
		res.Conflicts = append(res.Conflicts, *c)
	}
	if level == FileLevel && base != "" {
		more, err := r.fileLevelConflicts(ctx, base, destination, source, byPath)
		if err != nil {
			return nil, err
		}
		res.Conflicts = append(res.Conflicts, more...)
	}
	sort.Slice(res.Conflicts, func(i, j int) bool { return res.Conflicts[i].Path < res.Conflicts[j].Path })
	if err := r.fillConflictDetails(ctx, res); err != nil {
		return nil, err
	}
	return res, nil
}

// classify sets a git-reported conflict's kinds from the versions each side holds.
func classify(c *Conflict) {
	src, dst, base := c.Source, c.Destination, c.Base
	if src.Exists() && dst.Exists() {
		if objectType(src.Mode) != objectType(dst.Mode) {
			c.ObjectType = true
		}
		if src.Mode != dst.Mode && (!base.Exists() || (src.Mode != base.Mode && dst.Mode != base.Mode)) {
			c.FileMode = true
		}
		if src.Blob != dst.Blob && (!base.Exists() || (src.Blob != base.Blob && dst.Blob != base.Blob)) {
			c.Content = true
		}
		return
	}
	// One side deleted what the other changed.
	c.Content = true
}

// fileLevelConflicts finds paths both sides changed to different results that git merged cleanly.
func (r *Repo) fileLevelConflicts(ctx context.Context, base, destination, source string, known map[string]*Conflict) ([]Conflict, error) {
	srcChanges, err := r.changedPaths(ctx, base, source)
	if err != nil {
		return nil, err
	}
	dstChanges, err := r.changedPaths(ctx, base, destination)
	if err != nil {
		return nil, err
	}
	var out []Conflict
	for path, src := range srcChanges {
		dst, both := dstChanges[path]
		if !both || known[path] != nil || (src.after == dst.after) {
			continue
		}
		c := Conflict{Path: path, Base: src.before, Source: src.after, Destination: dst.after, AutoMergeable: true}
		classify(&c)
		if !c.FileMode && !c.ObjectType {
			c.Content = true
		}
		out = append(out, c)
	}
	return out, nil
}

type change struct{ before, after Version }

func (r *Repo) changedPaths(ctx context.Context, from, to string) (map[string]change, error) {
	out, err := r.git(ctx, nil, "diff-tree", "-r", "-z", "--no-renames", from, to)
	if err != nil {
		return nil, err
	}
	changes := map[string]change{}
	fields := strings.Split(string(out), "\x00")
	for i := 0; i+1 < len(fields); i += 2 {
		// ":<old mode> <new mode> <old sha> <new sha> <status>" then the path.
		parts := strings.Fields(strings.TrimPrefix(fields[i], ":"))
		if len(parts) != 5 {
			return nil, fmt.Errorf("git diff-tree: unexpected line %q", fields[i])
		}
		changes[fields[i+1]] = change{before: version(parts[0], parts[2]), after: version(parts[1], parts[3])}
	}
	return changes, nil
}

func version(mode, blob string) Version {
	if strings.Trim(blob, "0") == "" {
		return Version{}
	}
	return Version{Mode: mode, Blob: blob}
}

func objectType(mode string) string {
	switch mode {
	case ModeSymlink:
		return "SYMBOLIC_LINK"
	case ModeSubmodule:
		return "GIT_LINK"
	case ModeTree:
		return "DIRECTORY"
	}
	return "FILE"
}

// ObjectType names what a tree mode is, in CodeCommit's ObjectTypeEnum.
func ObjectType(mode string) string { return objectType(mode) }

// fillConflictDetails adds blob sizes and, for content conflicts git could not merge, the hunks.
func (r *Repo) fillConflictDetails(ctx context.Context, res *MergeResult) error {
	var blobs []string
	for _, c := range res.Conflicts {
		for _, v := range []Version{c.Base, c.Source, c.Destination} {
			if v.Exists() {
				blobs = append(blobs, v.Blob)
			}
		}
	}
	sizes, err := r.blobSizes(ctx, blobs)
	if err != nil {
		return err
	}
	for i := range res.Conflicts {
		c := &res.Conflicts[i]
		for _, v := range []*Version{&c.Base, &c.Source, &c.Destination} {
			v.Size = sizes[v.Blob]
		}
		if !c.Content || c.AutoMergeable || !c.Source.Exists() || !c.Destination.Exists() {
			continue
		}
		merged, err := r.git(ctx, nil, "cat-file", "-p", res.Tree+":"+c.Path)
		if err != nil {
			continue // git left no text version of it (a binary file): no hunks
		}
		c.Hunks = parseConflictMarkers(merged)
	}
	return nil
}

func (r *Repo) blobSizes(ctx context.Context, blobs []string) (map[string]int64, error) {
	sizes := map[string]int64{}
	if len(blobs) == 0 {
		return sizes, nil
	}
	out, err := r.gitWith(ctx, nil, []byte(strings.Join(blobs, "\n")+"\n"), "cat-file", "--batch-check=%(objectname) %(objectsize)")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(out, "\n") {
		name, size, _ := strings.Cut(line, " ")
		n, _ := strconv.ParseInt(size, 10, 64)
		sizes[name] = n
	}
	return sizes, nil
}

// parseConflictMarkers reads diff3-style conflict regions out of a merged file. Lines outside the
// regions count for all three sides, so line numbers are those of each side where git merged the
// rest of the file identically.
func parseConflictMarkers(merged []byte) []Hunk {
	var hunks []Hunk
	line := [3]int{1, 1, 1} // base, source, destination
	var cur *Hunk
	var part *HunkSide
	var partIdx int
	sc := bufio.NewScanner(bytes.NewReader(merged))
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		text := sc.Text()
		switch {
		case strings.HasPrefix(text, "<<<<<<< "):
			cur = &Hunk{}
			part, partIdx = &cur.Destination, 2
			part.StartLine = line[partIdx]
		case cur != nil && strings.HasPrefix(text, "||||||| "):
			part.EndLine = line[partIdx] - 1
			part, partIdx = &cur.Base, 0
			part.StartLine = line[partIdx]
		case cur != nil && text == "=======":
			part.EndLine = line[partIdx] - 1
			part, partIdx = &cur.Source, 1
			part.StartLine = line[partIdx]
		case cur != nil && strings.HasPrefix(text, ">>>>>>> "):
			part.EndLine = line[partIdx] - 1
			hunks = append(hunks, *cur)
			cur, part = nil, nil
		case cur != nil:
			part.Content += text + "\n"
			line[partIdx]++
		default:
			for i := range line {
				line[i]++
			}
		}
	}
	return hunks
}

// Replacement is a conflictResolution replaceContents entry in git's terms.
type Replacement struct {
	Path string
	// Take: "base", "source" or "destination" keeps that side's version; empty uses Content.
	Take    string
	Content []byte
	Mode    string // optional new mode
}

// Resolution is how a caller settles a merge's conflicts.
type Resolution struct {
	Strategy Strategy
	Replace  []Replacement
	Delete   []string
	SetModes map[string]string // path → mode
}

// UnresolvedError lists the conflicts a resolution left standing.
type UnresolvedError struct{ Paths []string }

func (e *UnresolvedError) Error() string {
	return fmt.Sprintf("%v: %s", ErrConflicts, strings.Join(e.Paths, ", "))
}

func (e *UnresolvedError) Unwrap() error { return ErrConflicts }

// ResolvedTree applies a resolution to a merge and writes the final tree. Conflicts the resolution
// does not settle fail with an *UnresolvedError.
func (r *Repo) ResolvedTree(ctx context.Context, m *MergeResult, res Resolution) (string, error) {
	type entry struct{ mode, blob string } // a zero entry deletes the path
	edits := map[string]entry{}
	handled := map[string]bool{}
	for _, rep := range res.Replace {
		handled[rep.Path] = true
		var v Version
		switch rep.Take {
		case "base", "source", "destination":
			c := m.conflict(rep.Path)
			if c == nil {
				return "", fmt.Errorf("%w: %s is not in conflict", ErrNotConflicted, rep.Path)
			}
			v = map[string]Version{"base": c.Base, "source": c.Source, "destination": c.Destination}[rep.Take]
		default:
			blob, err := r.WriteObject(ctx, rep.Content)
			if err != nil {
				return "", err
			}
			v = Version{Blob: blob, Mode: ModeFile}
			if c := m.conflict(rep.Path); c != nil {
				if c.Destination.Exists() {
					v.Mode = c.Destination.Mode
				} else if c.Source.Exists() {
					v.Mode = c.Source.Mode
				}
			}
		}
		if rep.Mode != "" && v.Exists() {
			v.Mode = rep.Mode
		}
		edits[rep.Path] = entry{v.Mode, v.Blob}
	}
	for _, path := range res.Delete {
		handled[path] = true
		edits[path] = entry{}
	}
	var unresolved []string
	for _, c := range m.Conflicts {
		if handled[c.Path] {
			continue
		}
		var v Version
		switch {
		case res.Strategy == StrategyAcceptSource:
			v = c.Source
		case res.Strategy == StrategyAcceptDestination:
			v = c.Destination
		case res.Strategy == StrategyAutomerge && c.AutoMergeable:
			continue // git's merged version is already in the tree
		default:
			unresolved = append(unresolved, c.Path)
			continue
		}
		edits[c.Path] = entry{v.Mode, v.Blob}
	}
	if len(unresolved) > 0 {
		return "", &UnresolvedError{Paths: unresolved}
	}
	if len(edits) == 0 && len(res.SetModes) == 0 {
		return m.Tree, nil
	}
	env, done, err := r.tempIndex()
	if err != nil {
		return "", err
	}
	defer done()
	if _, err := r.gitWith(ctx, env, nil, "read-tree", m.Tree); err != nil {
		return "", err
	}
	var info bytes.Buffer
	for renamed := range m.renamed {
		edits[renamed] = entry{}
	}
	for path, e := range edits {
		if e.blob == "" {
			fmt.Fprintf(&info, "0 %s\t%s\x00", strings.Repeat("0", 40), path)
		} else {
			fmt.Fprintf(&info, "%s %s\t%s\x00", e.mode, e.blob, path)
		}
	}
	if _, err := r.gitWith(ctx, env, info.Bytes(), "update-index", "-z", "--index-info"); err != nil {
		return "", err
	}
	var modes bytes.Buffer
	for path, mode := range res.SetModes {
		staged, err := r.gitWith(ctx, env, nil, "ls-files", "-s", "--", path)
		meta, _, _ := strings.Cut(staged, "\t")
		parts := strings.Fields(meta)
		if err != nil || len(parts) != 3 {
			return "", fmt.Errorf("%w: %s", ErrNotConflicted, path)
		}
		fmt.Fprintf(&modes, "%s %s\t%s\x00", mode, parts[1], path)
	}
	if modes.Len() > 0 {
		if _, err := r.gitWith(ctx, env, modes.Bytes(), "update-index", "-z", "--index-info"); err != nil {
			return "", err
		}
	}
	return r.gitWith(ctx, env, nil, "write-tree")
}

// tempIndex names a temporary index file in the repository (where RemoveTempFiles finds what a
// crash left), as the environment for git, and the function that removes it.
func (r *Repo) tempIndex() (env []string, done func(), err error) {
	f, err := os.CreateTemp(r.Dir, tempIndexPrefix+"*")
	if err != nil {
		return nil, nil, err
	}
	// git wants no file rather than an empty one: it only needs the name.
	f.Close()
	os.Remove(f.Name())
	return []string{"GIT_INDEX_FILE=" + filepath.Clean(f.Name())}, func() {
		os.Remove(f.Name())
		os.Remove(f.Name() + ".lock")
	}, nil
}

// ErrNotConflicted is returned when a resolution names a path the merge has no conflict or file for.
var ErrNotConflicted = errors.New("git: path not in the merge")

func (m *MergeResult) conflict(path string) *Conflict {
	for i := range m.Conflicts {
		if m.Conflicts[i].Path == path {
			return &m.Conflicts[i]
		}
	}
	return nil
}

// FindMergeCommit returns the merge commit reachable from destination that has source as a
// parent, or "" when source was never merged in by a merge commit.
func (r *Repo) FindMergeCommit(ctx context.Context, destination, source string) (string, error) {
	out, err := r.git(ctx, nil, "rev-list", "--merges", "--parents", destination, "^"+source)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		ids := strings.Fields(line)
		for _, parent := range ids[min(1, len(ids)):] {
			if parent == source {
				return ids[0], nil
			}
		}
	}
	return "", nil
}

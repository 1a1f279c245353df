package git

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type file struct{ content, mode string }

var testPerson = Signature{Name: "Test", Email: "test@example.com", When: time.Unix(1700000000, 0).UTC()}

func newTestRepo(t *testing.T) *Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git binary:", err)
	}
	dir := filepath.Join(t.TempDir(), "repo.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v: %s", err, out)
	}
	return Open(dir)
}

var commits int

// commitFiles writes a commit whose tree holds exactly files, with the given parents.
func commitFiles(t *testing.T, r *Repo, files map[string]file, parents ...string) string {
	t.Helper()
	ctx := context.Background()
	var info strings.Builder
	for path, f := range files {
		blob, err := r.WriteObject(ctx, []byte(f.content))
		if err != nil {
			t.Fatal(err)
		}
		mode := f.mode
		if mode == "" {
			mode = ModeFile
		}
		fmt.Fprintf(&info, "%s %s\t%s\x00", mode, blob, path)
	}
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(t.TempDir(), "index")}
	if _, err := r.gitWith(ctx, env, []byte(info.String()), "update-index", "--add", "-z", "--index-info"); err != nil {
		t.Fatal(err)
	}
	tree, err := r.gitWith(ctx, env, nil, "write-tree")
	if err != nil {
		t.Fatal(err)
	}
	commits++
	commit, err := commitOf(ctx, r, tree, fmt.Sprintf("commit %d\n", commits), parents...)
	if err != nil {
		t.Fatal(err)
	}
	return commit
}

func commitOf(ctx context.Context, r *Repo, tree, message string, parents ...string) (string, error) {
	c := NewCommit{Author: testPerson, Committer: testPerson, Message: message}
	if len(parents) > 0 {
		c.Parent, parents = parents[0], parents[1:]
	}
	return r.CommitTree(ctx, tree, c, parents...)
}

// treeFiles lists a tree as path → "mode content".
func treeFiles(t *testing.T, r *Repo, tree string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out, err := r.gitWith(ctx, nil, nil, "ls-tree", "-r", "-z", tree)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, entry := range strings.Split(out, "\x00") {
		if entry == "" {
			continue
		}
		meta, path, _ := strings.Cut(entry, "\t")
		parts := strings.Fields(meta)
		content, err := r.gitWith(ctx, nil, nil, "cat-file", "-p", parts[2])
		if err != nil {
			t.Fatal(err)
		}
		files[path] = parts[0] + " " + content
	}
	return files
}

const lines = "1\n2\n3\n4\n5\n6\n7\n"

func TestMergeConflicts(t *testing.T) {
	type kinds struct{ Content, FileMode, ObjectType, AutoMergeable bool }
	tests := []struct {
		name      string
		base      map[string]file
		src, dst  map[string]file
		level     DetailLevel
		want      map[string]kinds
		wantFiles map[string]string // the merged tree when clean
	}{{
		name:      "different files merge cleanly",
		base:      map[string]file{"a": {content: "a"}},
		src:       map[string]file{"a": {content: "a"}, "s": {content: "s"}},
		dst:       map[string]file{"a": {content: "a"}, "d": {content: "d"}},
		want:      map[string]kinds{},
		wantFiles: map[string]string{"a": "100644 a", "s": "100644 s", "d": "100644 d"},
	}, {
		name:      "different lines of one file merge at line level",
		base:      map[string]file{"f": {content: lines}},
		src:       map[string]file{"f": {content: strings.Replace(lines, "2", "S", 1)}},
		dst:       map[string]file{"f": {content: strings.Replace(lines, "6", "D", 1)}},
		want:      map[string]kinds{},
		wantFiles: map[string]string{"f": "100644 1\nS\n3\n4\n5\nD\n7"},
	}, {
		name:  "different lines of one file conflict at file level",
		base:  map[string]file{"f": {content: lines}},
		src:   map[string]file{"f": {content: strings.Replace(lines, "2", "S", 1)}},
		dst:   map[string]file{"f": {content: strings.Replace(lines, "6", "D", 1)}},
		level: FileLevel,
		want:  map[string]kinds{"f": {Content: true, AutoMergeable: true}},
	}, {
		name: "same line",
		base: map[string]file{"f": {content: lines}},
		src:  map[string]file{"f": {content: strings.Replace(lines, "2", "S", 1)}},
		dst:  map[string]file{"f": {content: strings.Replace(lines, "2", "D", 1)}},
		want: map[string]kinds{"f": {Content: true}},
	}, {
		name: "add/add",
		base: map[string]file{"a": {content: "a"}},
		src:  map[string]file{"a": {content: "a"}, "n": {content: "from source\n"}},
		dst:  map[string]file{"a": {content: "a"}, "n": {content: "from destination\n"}},
		want: map[string]kinds{"n": {Content: true}},
	}, {
		name: "modify/delete",
		base: map[string]file{"a": {content: "a"}, "m": {content: "m"}},
		src:  map[string]file{"a": {content: "a"}},
		dst:  map[string]file{"a": {content: "a"}, "m": {content: "changed"}},
		want: map[string]kinds{"m": {Content: true}},
	}, {
		name: "file against symlink",
		base: map[string]file{"l": {content: "x"}},
		src:  map[string]file{"l": {content: "y", mode: ModeExecutable}},
		dst:  map[string]file{"l": {content: "target", mode: ModeSymlink}},
		want: map[string]kinds{"l": {Content: true, FileMode: true, ObjectType: true}},
	}, {
		name:  "same change on both sides is no conflict at file level",
		base:  map[string]file{"f": {content: lines}},
		src:   map[string]file{"f": {content: "same"}},
		dst:   map[string]file{"f": {content: "same"}},
		level: FileLevel,
		want:  map[string]kinds{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRepo(t)
			base := commitFiles(t, r, tt.base)
			src := commitFiles(t, r, tt.src, base)
			dst := commitFiles(t, r, tt.dst, base)
			level := tt.level
			if level == "" {
				level = LineLevel
			}
			m, err := r.Merge(context.Background(), dst, src, level)
			if err != nil {
				t.Fatal(err)
			}
			if m.Base != base {
				t.Errorf("got base %s, want %s", m.Base, base)
			}
			got := map[string]kinds{}
			for _, c := range m.Conflicts {
				got[c.Path] = kinds{c.Content, c.FileMode, c.ObjectType, c.AutoMergeable}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("conflicts (-want +got):\n%s", diff)
			}
			if tt.wantFiles != nil {
				if diff := cmp.Diff(tt.wantFiles, treeFiles(t, r, m.Tree)); diff != "" {
					t.Errorf("merged tree (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestMergeConflictDetails(t *testing.T) {
	r := newTestRepo(t)
	base := commitFiles(t, r, map[string]file{"f": {content: lines}})
	src := commitFiles(t, r, map[string]file{"f": {content: strings.Replace(lines, "3\n", "S1\nS2\n", 1)}}, base)
	dst := commitFiles(t, r, map[string]file{"f": {content: strings.Replace(lines, "3\n", "D\n", 1)}}, base)
	m, err := r.Merge(context.Background(), dst, src, LineLevel)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Conflicts) != 1 {
		t.Fatalf("got %d conflicts, want 1", len(m.Conflicts))
	}
	c := m.Conflicts[0]
	if got, want := [3]int64{c.Base.Size, c.Source.Size, c.Destination.Size}, [3]int64{14, 18, 14}; got != want {
		t.Errorf("got sizes %v, want %v", got, want)
	}
	want := []Hunk{{
		Base:        HunkSide{StartLine: 3, EndLine: 3, Content: "3\n"},
		Source:      HunkSide{StartLine: 3, EndLine: 4, Content: "S1\nS2\n"},
		Destination: HunkSide{StartLine: 3, EndLine: 3, Content: "D\n"},
	}}
	if diff := cmp.Diff(want, c.Hunks); diff != "" {
		t.Errorf("hunks (-want +got):\n%s", diff)
	}
}

func TestResolvedTree(t *testing.T) {
	r := newTestRepo(t)
	base := commitFiles(t, r, map[string]file{"f": {content: "base\n"}, "g": {content: lines}, "k": {content: "k"}})
	src := commitFiles(t, r, map[string]file{"f": {content: "source\n"}, "g": {content: strings.Replace(lines, "1", "S", 1)}, "k": {content: "k"}}, base)
	dst := commitFiles(t, r, map[string]file{"f": {content: "destination\n"}, "g": {content: strings.Replace(lines, "7", "D", 1)}, "k": {content: "k"}}, base)
	m, err := r.Merge(context.Background(), dst, src, FileLevel)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		r       Resolution
		want    map[string]string
		wantErr []string // unresolved paths
	}{{
		name:    "none leaves both conflicts",
		r:       Resolution{Strategy: StrategyNone},
		wantErr: []string{"f", "g"},
	}, {
		name:    "automerge settles only the file-level conflict",
		r:       Resolution{Strategy: StrategyAutomerge},
		wantErr: []string{"f"},
	}, {
		name: "accept source",
		r:    Resolution{Strategy: StrategyAcceptSource},
		want: map[string]string{"f": "100644 source", "g": "100644 S\n2\n3\n4\n5\n6\n7", "k": "100644 k"},
	}, {
		name: "accept destination",
		r:    Resolution{Strategy: StrategyAcceptDestination},
		want: map[string]string{"f": "100644 destination", "g": "100644 1\n2\n3\n4\n5\n6\nD", "k": "100644 k"},
	}, {
		name: "replace, keep base, delete and chmod",
		r: Resolution{
			Strategy: StrategyAutomerge,
			Replace:  []Replacement{{Path: "f", Content: []byte("new\n"), Mode: ModeExecutable}},
			Delete:   []string{"k"},
			SetModes: map[string]string{"g": ModeExecutable},
		},
		want: map[string]string{"f": "100755 new", "g": "100755 S\n2\n3\n4\n5\n6\nD"},
	}, {
		name: "keep base",
		r:    Resolution{Strategy: StrategyAcceptSource, Replace: []Replacement{{Path: "f", Take: "base"}}},
		want: map[string]string{"f": "100644 base", "g": "100644 S\n2\n3\n4\n5\n6\n7", "k": "100644 k"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := r.ResolvedTree(context.Background(), m, tt.r)
			var unresolved *UnresolvedError
			if tt.wantErr != nil {
				if !errors.As(err, &unresolved) {
					t.Fatalf("got error %v, want unresolved %v", err, tt.wantErr)
				}
				if diff := cmp.Diff(tt.wantErr, unresolved.Paths); diff != "" {
					t.Errorf("unresolved (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, treeFiles(t, r, tree)); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAncestryAndSquash(t *testing.T) {
	ctx := context.Background()
	r := newTestRepo(t)
	root := commitFiles(t, r, map[string]file{"a": {content: "a"}})
	child := commitFiles(t, r, map[string]file{"a": {content: "b"}}, root)
	other := commitFiles(t, r, map[string]file{"o": {content: "o"}})
	for _, tt := range []struct {
		ancestor, descendant string
		want                 bool
	}{{root, child, true}, {child, root, false}, {root, root, true}, {other, child, false}} {
		got, err := r.IsAncestor(ctx, tt.ancestor, tt.descendant)
		if err != nil || got != tt.want {
			t.Errorf("IsAncestor(%.7s, %.7s): got %v, %v, want %v", tt.ancestor, tt.descendant, got, err, tt.want)
		}
	}
	if got, err := r.MergeBase(ctx, child, other); err != nil || got != "" {
		t.Errorf("MergeBase of unrelated commits: got %q, %v, want none", got, err)
	}
	m, err := r.Merge(ctx, child, other, LineLevel)
	if err != nil || !m.Clean() {
		t.Fatalf("merging unrelated histories: got %v, %+v", err, m)
	}
	squash, err := commitOf(ctx, r, m.Tree, "squash\n", child)
	if err != nil {
		t.Fatal(err)
	}
	parents, err := r.gitWith(ctx, nil, nil, "rev-list", "--parents", "-n1", squash)
	if err != nil {
		t.Fatal(err)
	}
	if want := squash + " " + child; parents != want {
		t.Errorf("got parents %q, want %q", parents, want)
	}
}

// TestResolvedTreeOfTypeConflict: git records one side of a file/symlink conflict under another
// name; the resolved tree has the path once, as chosen.
func TestResolvedTreeOfTypeConflict(t *testing.T) {
	ctx := context.Background()
	r := newTestRepo(t)
	base := commitFiles(t, r, map[string]file{"l": {content: "x"}})
	src := commitFiles(t, r, map[string]file{"l": {content: "y"}}, base)
	dst := commitFiles(t, r, map[string]file{"l": {content: "target", mode: ModeSymlink}}, base)
	m, err := r.Merge(ctx, dst, src, LineLevel)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		strategy Strategy
		want     map[string]string
	}{
		{StrategyAcceptSource, map[string]string{"l": "100644 y"}},
		{StrategyAcceptDestination, map[string]string{"l": "120000 target"}},
	} {
		tree, err := r.ResolvedTree(ctx, m, Resolution{Strategy: tt.strategy})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, treeFiles(t, r, tree)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.strategy, diff)
		}
	}
}

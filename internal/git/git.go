// Package git is the one place overcast runs the git binary: a small typed
// wrapper over git's plumbing commands for bare repositories (CodeCommit's
// API reads and writes repositories with it, CodeBuild clones sources with
// it). Every command runs with no system or user configuration, no prompts
// and its input on stdin, so that what a user's ~/.gitconfig says never
// changes what overcast does.
package git

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

var (
	// ErrNotFound means a reference, object or path does not exist.
	ErrNotFound = errors.New("git: not found")
	// ErrRefChanged means UpdateRef's old value no longer held: someone else
	// moved the reference first.
	ErrRefChanged = errors.New("git: reference changed")
	// ErrTooLarge means a blob is bigger than the caller's limit.
	ErrTooLarge = errors.New("git: object too large")
)

// ZeroID is the object ID git uses for "no object" (a reference that does
// not exist yet, or no longer does).
const ZeroID = "0000000000000000000000000000000000000000"

// EmptyTreeID is the ID of the empty tree, which every repository has
// without storing it: the "before" of a first commit.
const EmptyTreeID = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// Error is a git command that failed: what ran and what it said.
type Error struct {
	Args   []string
	Stderr string
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("git %s: %v: %s", strings.Join(e.Args, " "), e.Err, strings.TrimSpace(e.Stderr))
}

func (e *Error) Unwrap() error { return e.Err }

// exitCode is the command's exit status, or -1 when it did not exit.
func (e *Error) exitCode() int {
	if x, ok := errors.AsType[*exec.ExitError](e.Err); ok {
		return x.ExitCode()
	}
	return -1
}

// baseEnv is the environment every git command gets: only what git needs
// from ours (PATH to find its helpers), and nothing that reads a user's or
// the machine's configuration or waits for a person.
func baseEnv() []string {
	env := []string{
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=",
		"SSH_ASKPASS=",
		"HOME=" + os.DevNull,
		"LC_ALL=C",
	}
	for _, name := range []string{"PATH", "TMPDIR"} {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return env
}

// command is one git invocation.
type command struct {
	dir   string // the git directory (--git-dir), or "" for commands that make one
	args  []string
	env   []string // added to baseEnv
	stdin io.Reader
	out   io.Writer // where stdout goes instead of the returned bytes
}

func (c command) run(ctx context.Context) ([]byte, error) {
	args := c.args
	if c.dir != "" {
		args = append([]string{"--git-dir=" + c.dir}, args...)
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = append(baseEnv(), c.env...)
	cmd.Stdin = c.stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	if c.out != nil {
		cmd.Stdout = c.out
	}
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, &Error{Args: c.args, Stderr: stderr.String(), Err: err}
	}
	return stdout.Bytes(), nil
}

// Repo is a bare repository on disk.
type Repo struct {
	Dir string
}

// Open returns the repository in dir, without checking that it is one.
func Open(dir string) *Repo { return &Repo{Dir: dir} }

// InitBare makes a bare repository in dir whose HEAD names defaultBranch,
// and returns it. Pushes to it may update any reference (AWS refuses none
// of git's own), and it serves git http-backend.
func InitBare(ctx context.Context, dir, defaultBranch string) (*Repo, error) {
	if _, err := (command{args: []string{"init", "--bare", "--quiet", "--initial-branch=" + defaultBranch, dir}}).run(ctx); err != nil {
		return nil, err
	}
	r := Open(dir)
	for _, kv := range [][2]string{
		{"http.receivepack", "true"},
		{"receive.denyDeleteCurrent", "false"},
		{"core.logAllRefUpdates", "false"},
		{"uploadpack.allowReachableSHA1InWant", "true"},
	} {
		if _, err := r.git(ctx, nil, "config", kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *Repo) git(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	return command{dir: r.Dir, args: args, stdin: stdin}.run(ctx)
}

// checkRev refuses a revision git could take for an option.
func checkRev(rev string) error {
	if rev == "" || strings.HasPrefix(rev, "-") {
		return fmt.Errorf("git: invalid revision %q: %w", rev, ErrNotFound)
	}
	return nil
}

// ResolveCommit returns the ID of the commit rev names (an ID, a full or
// short reference name, a tag that points at a commit), or ErrNotFound.
func (r *Repo) ResolveCommit(ctx context.Context, rev string) (string, error) {
	return r.resolve(ctx, rev+"^{commit}")
}

// ResolveRef returns the object ID a full reference name (refs/heads/main)
// points to, or ErrNotFound.
func (r *Repo) ResolveRef(ctx context.Context, ref string) (string, error) {
	return r.resolve(ctx, ref)
}

func (r *Repo) resolve(ctx context.Context, rev string) (string, error) {
	if err := checkRev(rev); err != nil {
		return "", err
	}
	out, err := r.git(ctx, nil, "rev-parse", "--verify", "--quiet", rev)
	if e, ok := errors.AsType[*Error](err); ok && e.exitCode() == 1 {
		return "", fmt.Errorf("git: %s: %w", rev, ErrNotFound)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// Ref is a reference and the object it points to.
type Ref struct {
	Name     string // full name: refs/heads/main
	ObjectID string
}

// ListRefs returns the references under prefix (refs/heads/), in name order.
func (r *Repo) ListRefs(ctx context.Context, prefix string) ([]Ref, error) {
	out, err := r.git(ctx, nil, "for-each-ref", "--format=%(objectname) %(refname)", prefix)
	if err != nil {
		return nil, err
	}
	var refs []Ref
	for line := range strings.Lines(string(out)) {
		id, name, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		if ok {
			refs = append(refs, Ref{Name: name, ObjectID: id})
		}
	}
	return refs, nil
}

// UpdateRef points ref at newID if it still points at oldID (ZeroID or ""
// for "does not exist yet"); otherwise it changes nothing and returns
// ErrRefChanged. newID ZeroID deletes the reference. This compare-and-swap
// is what keeps a push and an API commit racing on one branch from losing
// either.
func (r *Repo) UpdateRef(ctx context.Context, ref, newID, oldID string) error {
	if oldID == "" {
		oldID = ZeroID
	}
	args := []string{"update-ref", "--no-deref", ref, newID, oldID}
	if newID == ZeroID {
		args = []string{"update-ref", "--no-deref", "-d", ref, oldID}
	}
	_, err := r.git(ctx, nil, args...)
	if err == nil {
		return nil
	}
	// git words a lost race several ways; what it means is that the
	// reference is not at oldID any more.
	current, rerr := r.ResolveRef(ctx, ref)
	switch {
	case errors.Is(rerr, ErrNotFound):
		current = ZeroID
	case rerr != nil:
		return err
	}
	if current != oldID {
		return fmt.Errorf("git: %s is at %s, not %s: %w", ref, current, oldID, ErrRefChanged)
	}
	return err
}

// SetHead makes HEAD name branch (a short name): what a clone checks out.
func (r *Repo) SetHead(ctx context.Context, branch string) error {
	_, err := r.git(ctx, nil, "symbolic-ref", "HEAD", "refs/heads/"+branch)
	return err
}

// Head returns the branch HEAD names (a short name), whether or not it
// exists yet.
func (r *Repo) Head(ctx context.Context) (string, error) {
	out, err := r.git(ctx, nil, "symbolic-ref", "--short", "HEAD")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// ObjectType returns "commit", "tree", "blob" or "tag", or ErrNotFound.
func (r *Repo) ObjectType(ctx context.Context, id string) (string, error) {
	if err := checkRev(id); err != nil {
		return "", err
	}
	out, err := r.git(ctx, nil, "cat-file", "-t", id)
	if err != nil {
		return "", fmt.Errorf("git: object %s: %w", id, ErrNotFound)
	}
	return strings.TrimSpace(string(out)), nil
}

// IsAncestor reports whether commit a is an ancestor of (or is) commit b.
func (r *Repo) IsAncestor(ctx context.Context, a, b string) (bool, error) {
	_, err := r.git(ctx, nil, "merge-base", "--is-ancestor", a, b)
	if e, ok := errors.AsType[*Error](err); ok && e.exitCode() == 1 {
		return false, nil
	}
	return err == nil, err
}

// ValidBranchName reports whether name is a branch name git accepts
// (git check-ref-format --branch), without running git.
func ValidBranchName(name string) bool {
	if name == "" || name == "@" || strings.HasPrefix(name, "-") || strings.HasPrefix(name, "/") ||
		strings.HasSuffix(name, "/") || strings.HasSuffix(name, ".") ||
		strings.Contains(name, "..") || strings.Contains(name, "//") || strings.Contains(name, "@{") {
		return false
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\", c) {
			return false
		}
	}
	for part := range strings.SplitSeq(name, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	return true
}

package git

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Clone clones url into dir (which must not exist or be empty) and checks
// out ref: a branch, a tag, a commit ID, or "" for the remote's default
// branch. It returns the commit checked out: CodeBuild's resolved source
// version. A branch is checked out as that branch, anything else detached.
// env is added to the commands' environment (credentials helpers,
// GIT_SSH_COMMAND).
func Clone(ctx context.Context, url, dir, ref string, env ...string) (string, error) {
	if strings.HasPrefix(url, "-") {
		return "", fmt.Errorf("git: invalid URL %q", url)
	}
	if _, err := (command{args: []string{"clone", "--quiet", "--no-checkout", "--", url, dir}, env: env}).run(ctx); err != nil {
		return "", err
	}
	work := func(args ...string) ([]byte, error) {
		return command{args: append([]string{"-C", dir}, args...), env: env}.run(ctx)
	}
	resolve := func(rev string) string {
		out, err := work("rev-parse", "--verify", "--quiet", rev+"^{commit}")
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	if ref == "" {
		commit := resolve("HEAD")
		if commit == "" {
			return "", fmt.Errorf("git: %s has no default branch: %w", url, ErrNotFound)
		}
		_, err := work("checkout", "--quiet")
		return commit, err
	}
	if err := checkRev(ref); err != nil {
		return "", err
	}
	branch := strings.TrimPrefix(ref, "refs/heads/")
	if commit := resolve("refs/remotes/origin/" + branch); commit != "" {
		_, err := work("checkout", "--quiet", "-B", branch, commit)
		return commit, err
	}
	for _, rev := range []string{"refs/tags/" + strings.TrimPrefix(ref, "refs/tags/"), ref} {
		if commit := resolve(rev); commit != "" {
			_, err := work("checkout", "--quiet", "--detach", commit)
			return commit, err
		}
	}
	// A commit no branch or tag names is not fetched by a clone; ask for
	// it (servers allow it for reachable commits since git 2.5's
	// uploadpack.allowReachableSHA1InWant, and overcast's do).
	if _, err := work("fetch", "--quiet", "origin", ref); err == nil {
		if commit := resolve("FETCH_HEAD"); commit != "" {
			_, err := work("checkout", "--quiet", "--detach", commit)
			return commit, err
		}
	}
	return "", fmt.Errorf("git: %s: no branch, tag or commit %q: %w", url, ref, ErrNotFound)
}

// Archive writes the tree of commit to w as format ("zip" or "tar"), with
// no prefix.
func (r *Repo) Archive(ctx context.Context, w io.Writer, commit, format string) error {
	if err := checkRev(commit); err != nil {
		return err
	}
	_, err := command{dir: r.Dir, args: []string{"archive", "--format=" + format, commit}, out: w}.run(ctx)
	return err
}

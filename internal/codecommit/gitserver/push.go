package gitserver

import (
	"context"
	"sort"

	"overcast"
	"overcast/internal/git"
)

// preReceiveHook refuses a push deleting the repository's default branch,
// as CodeCommit does (DeleteBranch's DefaultBranchCannotBeDeletedException);
// the server names the branch in OVERCAST_DEFAULT_REF.
const preReceiveHook = `#!/bin/sh
status=0
while read old new ref; do
	if [ "$new" = 0000000000000000000000000000000000000000 ] && [ -n "$OVERCAST_DEFAULT_REF" ] && [ "$ref" = "$OVERCAST_DEFAULT_REF" ]; then
		echo "The default branch of a repository cannot be deleted. To delete this branch, you must first set another branch as the default branch." >&2
		status=1
	fi
done
exit $status
`

// serveOptions are how git runs for repo: with the hook and what it checks.
func (s *Server) serveOptions(repo Repository) git.ServeOptions {
	o := git.ServeOptions{HooksDir: s.hooksDir, Logger: s.logger}
	if repo.DefaultBranch != "" {
		o.Env = []string{"OVERCAST_DEFAULT_REF=refs/heads/" + repo.DefaultBranch}
	}
	return o
}

// push is a receive-pack in progress: the references before it, to report
// what it changed.
type push struct {
	s      *Server
	caller overcast.Caller // who pushes, in the region of the repository
	name   string
	repo   Repository
	before map[string]string
}

func (s *Server) startPush(ctx context.Context, caller overcast.Caller, name string, repo Repository) (*push, error) {
	before, err := refTips(ctx, repo.Dir)
	if err != nil {
		return nil, err
	}
	return &push{s: s, caller: caller, name: name, repo: repo, before: before}, nil
}

// finish reports the references that changed to CodeCommit, as the
// pusher's doing. It runs whether or not receive-pack succeeded, and
// after the client has gone: a push may update some references and
// refuse others.
func (p *push) finish(ctx context.Context) {
	ctx = overcast.WithCaller(context.WithoutCancel(ctx), p.caller)
	after, err := refTips(ctx, p.repo.Dir)
	if err != nil {
		p.s.logger.Error("listing references after a push", "repository", p.name, "err", err)
		return
	}
	changes := refChanges(p.before, after)
	if len(changes) == 0 {
		return
	}
	if err := p.s.opts.Repositories.RecordPush(ctx, p.caller.AccountID, p.caller.Region, p.name, changes); err != nil {
		p.s.logger.Error("recording a push", "repository", p.name, "err", err)
	}
}

// refChanges lists the references whose target differs between before and
// after, by name.
func refChanges(before, after map[string]string) []RefChange {
	var changes []RefChange
	for ref, old := range before {
		if after[ref] != old {
			changes = append(changes, RefChange{Ref: ref, Old: old, New: after[ref]})
		}
	}
	for ref, id := range after {
		if _, ok := before[ref]; !ok {
			changes = append(changes, RefChange{Ref: ref, New: id})
		}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Ref < changes[j].Ref })
	return changes
}

// refTips maps each reference of the repository in dir to its object.
func refTips(ctx context.Context, dir string) (map[string]string, error) {
	refs, err := git.Open(dir).ListRefs(ctx, "refs/")
	if err != nil {
		return nil, err
	}
	tips := make(map[string]string, len(refs))
	for _, r := range refs {
		tips[r.Name] = r.ObjectID
	}
	return tips, nil
}

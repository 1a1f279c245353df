package codecommit

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	api "overcast/internal/api/codecommit"
	"overcast/internal/git"
	"overcast/internal/service"
)

// Merge options, as the API names them.
const (
	fastForwardMerge = "FAST_FORWARD_MERGE"
	squashMerge      = "SQUASH_MERGE"
	threeWayMerge    = "THREE_WAY_MERGE"
)

// maxConflictResolutionEntries is how many entries a conflictResolution may have in all.
const maxConflictResolutionEntries = 100

// mergeSpecifier returns the commit a merge's commit specifier (branch, tag or commit ID) names:
// unlike elsewhere, a merge names both sides.
func (s *Service) mergeSpecifier(ctx context.Context, repo *git.Repo, r *repository, spec *string) (string, error) {
	name := service.Deref(spec)
	if name == "" {
		return "", withMessage(&api.CommitRequiredException{}, "A commit ID or branch name is required but was not specified.")
	}
	return s.resolveSpecifier(ctx, repo, r, name)
}

// merging is a merge of two commits of one repository, as an operation names it.
type merging struct {
	sc          scope
	repo        repository
	git         *git.Repo
	source      string // commit IDs
	destination string
	level       git.DetailLevel
	strategy    git.Strategy
}

// openMerge resolves what a merge operation names.
func (s *Service) openMerge(ctx context.Context, repoName, source, destination, level, strategy *string) (*merging, error) {
	sc, r, err := s.lookup(ctx, repoName)
	if err != nil {
		return nil, err
	}
	m := &merging{sc: sc, repo: r, git: s.repo(sc, &r),
		level:    git.DetailLevel(service.DerefOr(level, string(git.LineLevel))),
		strategy: git.Strategy(service.DerefOr(strategy, string(git.StrategyNone)))}
	if m.source, err = s.mergeSpecifier(ctx, m.git, &m.repo, source); err != nil {
		return nil, err
	}
	if m.destination, err = s.mergeSpecifier(ctx, m.git, &m.repo, destination); err != nil {
		return nil, err
	}
	return m, nil
}

// merge runs the three-way merge of the source into the destination.
func (m *merging) merge(ctx context.Context) (*git.MergeResult, error) {
	return m.git.Merge(ctx, m.destination, m.source, m.level)
}

// canFastForward reports whether the destination is an ancestor of the source.
func (m *merging) canFastForward(ctx context.Context) (bool, error) {
	return m.git.IsAncestor(ctx, m.destination, m.source)
}

// resolution turns the API's conflict resolution into git's, checking it against the merge.
func resolution(res *api.ConflictResolution, strategy git.Strategy, merged *git.MergeResult) (git.Resolution, error) {
	out := git.Resolution{Strategy: strategy}
	if res == nil {
		return out, nil
	}
	if len(res.ReplaceContents)+len(res.DeleteFiles)+len(res.SetFileModes) > maxConflictResolutionEntries {
		return out, withMessage(&api.MaximumConflictResolutionEntriesExceededException{},
			"The number of allowed conflict resolution entries was exceeded. The maximum is %d.", maxConflictResolutionEntries)
	}
	seen := map[string]bool{}
	claim := func(path string) error {
		if path == "" {
			return withMessage(&api.PathRequiredException{}, "The filePath for a location cannot be empty.")
		}
		if seen[path] {
			return withMessage(&api.MultipleConflictResolutionEntriesException{}, "More than one conflict resolution entry exists for the conflict. A conflicted file can have only one conflict resolution entry: %s", path)
		}
		seen[path] = true
		return nil
	}
	for _, rc := range res.ReplaceContents {
		path := service.Deref(rc.FilePath)
		if err := claim(path); err != nil {
			return out, err
		}
		rep := git.Replacement{Path: path}
		switch service.Deref(rc.ReplacementType) {
		case "KEEP_BASE":
			rep.Take = "base"
		case "KEEP_SOURCE":
			rep.Take = "source"
		case "KEEP_DESTINATION":
			rep.Take = "destination"
		case "USE_NEW_CONTENT":
			if rc.Content == nil {
				return out, withMessage(&api.ReplacementContentRequiredException{}, "USE_NEW_CONTENT was specified, but no replacement content has been provided.")
			}
			rep.Content = rc.Content
		}
		if rep.Take != "" && rc.Content != nil {
			return out, withMessage(&api.InvalidReplacementContentException{}, "Replacement content can only be provided with the USE_NEW_CONTENT replacement type: %s", path)
		}
		if rc.FileMode != nil {
			rep.Mode = gitModes[*rc.FileMode]
		}
		out.Replace = append(out.Replace, rep)
	}
	for _, d := range res.DeleteFiles {
		path := service.Deref(d.FilePath)
		if err := claim(path); err != nil {
			return out, err
		}
		out.Delete = append(out.Delete, path)
	}
	for _, sm := range res.SetFileModes {
		if out.SetModes == nil {
			out.SetModes = map[string]string{}
		}
		out.SetModes[service.Deref(sm.FilePath)] = gitModes[service.Deref(sm.FileMode)]
	}
	for _, path := range append(append([]string{}, out.Delete...), replacedPaths(out.Replace)...) {
		if !isConflicted(merged, path) {
			return out, withMessage(&api.InvalidConflictResolutionException{}, "The conflict resolution names %s, which has no conflict.", path)
		}
	}
	return out, nil
}

func replacedPaths(reps []git.Replacement) []string {
	return service.Map(reps, func(r git.Replacement) string { return r.Path })
}

func isConflicted(m *git.MergeResult, path string) bool {
	for _, c := range m.Conflicts {
		if c.Path == path {
			return true
		}
	}
	return false
}

// mergedTree is the tree the merge ends with once the resolution settles its conflicts.
func (m *merging) mergedTree(ctx context.Context, merged *git.MergeResult, res *api.ConflictResolution) (string, error) {
	r, err := resolution(res, m.strategy, merged)
	if err != nil {
		return "", err
	}
	tree, err := m.git.ResolvedTree(ctx, merged, r)
	if errors.Is(err, git.ErrConflicts) {
		return "", manualMergeRequired()
	}
	if errors.Is(err, git.ErrNotConflicted) {
		return "", withMessage(&api.InvalidConflictResolutionException{}, "%v", err)
	}
	return tree, err
}

func manualMergeRequired() error {
	return withMessage(&api.ManualMergeRequiredException{}, "The pull request cannot be merged automatically into the destination branch. You must manually merge the branches and resolve any conflicts.")
}

// mergeCommitInfo is the author and message of a commit a merge writes.
type mergeCommitInfo struct {
	authorName, email, message *string
}

// signature is who a commit written through the API is by: the name given, else the caller's name.
func (s *Service) signature(ctx context.Context, name, email *string) git.Signature {
	return git.Signature{Name: cmp.Or(service.Deref(name), callerName(ctx)), Email: service.Deref(email), When: s.Now().UTC()}
}

// writeMergeCommit writes the commit of a squash (one parent) or three-way merge (two parents).
func (s *Service) writeMergeCommit(ctx context.Context, m *merging, option, tree string, req mergeCommitInfo) (string, error) {
	who := s.signature(ctx, req.authorName, req.email)
	message := service.Deref(req.message)
	if message == "" {
		message = fmt.Sprintf("Merge %s into %s", m.source, m.destination)
	}
	c := git.NewCommit{Parent: m.destination, Author: who, Committer: who, Message: message}
	if option == threeWayMerge {
		return m.git.CommitTree(ctx, tree, c, m.source)
	}
	return m.git.CommitTree(ctx, tree, c)
}

// mergeCommit does a merge by option and returns the resulting commit (for a fast-forward, the
// source) and its tree, without moving any branch.
func (s *Service) mergeCommit(ctx context.Context, m *merging, option string, res *api.ConflictResolution, req mergeCommitInfo) (commit, tree string, err error) {
	if option == fastForwardMerge {
		ok, err := m.canFastForward(ctx)
		if err != nil {
			return "", "", err
		}
		if !ok {
			return "", "", manualMergeRequired()
		}
		c, err := m.git.ReadCommit(ctx, m.source)
		return m.source, c.Tree, err
	}
	// The same limits on the author and message as any API commit.
	if err := checkCommitRequest(commitRequest{name: service.Deref(req.authorName), email: service.Deref(req.email),
		message: service.Deref(req.message)}); err != nil {
		return "", "", err
	}
	merged, err := m.merge(ctx)
	if err != nil {
		return "", "", err
	}
	if tree, err = m.mergedTree(ctx, merged, res); err != nil {
		return "", "", err
	}
	commit, err = s.writeMergeCommit(ctx, m, option, tree, req)
	return commit, tree, err
}

// mergeBranches merges and moves the target branch (by default the destination specifier) to the result.
func (s *Service) mergeBranches(ctx context.Context, m *merging, destinationSpec, targetBranch *string, option string, res *api.ConflictResolution, req mergeCommitInfo) (string, string, error) {
	branch := service.Deref(targetBranch)
	if branch == "" {
		branch = service.Deref(destinationSpec)
	}
	if _, err := m.git.ResolveRef(ctx, branchPrefix+branch); err != nil {
		if targetBranch != nil {
			return "", "", withMessage(&api.InvalidTargetBranchException{}, "The specified target branch is not valid: %s", branch)
		}
		return "", "", withMessage(&api.BranchDoesNotExistException{}, "Could not find branch %s.", branch)
	}
	commit, tree, err := s.mergeCommit(ctx, m, option, res, req)
	if err != nil {
		return "", "", err
	}
	if err := s.moveBranch(ctx, m, branch, commit); err != nil {
		return "", "", err
	}
	return commit, tree, nil
}

// moveBranch points branch at commit if it still is where the merge found the destination.
func (s *Service) moveBranch(ctx context.Context, m *merging, branch, commit string) error {
	old, err := m.git.ResolveRef(ctx, branchPrefix+branch)
	if err != nil {
		return err
	}
	if old != m.destination {
		if ok, err := m.git.IsAncestor(ctx, old, commit); err != nil || !ok {
			return withMessage(&api.ConcurrentReferenceUpdateException{}, "The merge cannot be completed because the target branch has been modified. Another user might have modified the target branch while the merge was in progress. Wait a few minutes, and then try again.")
		}
	}
	err = m.git.UpdateRef(ctx, branchPrefix+branch, commit, old)
	if errors.Is(err, git.ErrRefChanged) {
		return withMessage(&api.ConcurrentReferenceUpdateException{}, "The merge cannot be completed because the target branch has been modified. Another user might have modified the target branch while the merge was in progress. Wait a few minutes, and then try again.")
	}
	if err != nil {
		return err
	}
	return s.recordChanges(ctx, m.sc, m.repo.Name, []RefChange{{Ref: branchPrefix + branch, Old: old, New: commit}})
}

// MergeBranchesByFastForward moves the destination branch to the source commit.
func (s *Service) MergeBranchesByFastForward(ctx context.Context, in *api.MergeBranchesByFastForwardInput) (*api.MergeBranchesByFastForwardOutput, error) {
	m, err := s.openMerge(ctx, in.RepositoryName, in.SourceCommitSpecifier, in.DestinationCommitSpecifier, nil, nil)
	if err != nil {
		return nil, err
	}
	commit, tree, err := s.mergeBranches(ctx, m, in.DestinationCommitSpecifier, in.TargetBranch, fastForwardMerge, nil, mergeCommitInfo{})
	if err != nil {
		return nil, err
	}
	return &api.MergeBranchesByFastForwardOutput{CommitId: new(commit), TreeId: new(tree)}, nil
}

// MergeBranchesBySquash squashes the source's changes into one commit on the destination branch.
func (s *Service) MergeBranchesBySquash(ctx context.Context, in *api.MergeBranchesBySquashInput) (*api.MergeBranchesBySquashOutput, error) {
	// The squash and three-way inputs have the same fields, so one converts to the other.
	out, err := s.mergeBranchesWithCommit(ctx, squashMerge, (*api.MergeBranchesByThreeWayInput)(in))
	return (*api.MergeBranchesBySquashOutput)(out), err
}

// MergeBranchesByThreeWay writes a merge commit of the source into the destination branch.
func (s *Service) MergeBranchesByThreeWay(ctx context.Context, in *api.MergeBranchesByThreeWayInput) (*api.MergeBranchesByThreeWayOutput, error) {
	return s.mergeBranchesWithCommit(ctx, threeWayMerge, in)
}

// mergeBranchesWithCommit is a squash or three-way merge of branches.
func (s *Service) mergeBranchesWithCommit(ctx context.Context, option string, in *api.MergeBranchesByThreeWayInput) (*api.MergeBranchesByThreeWayOutput, error) {
	m, err := s.openMerge(ctx, in.RepositoryName, in.SourceCommitSpecifier, in.DestinationCommitSpecifier, in.ConflictDetailLevel, in.ConflictResolutionStrategy)
	if err != nil {
		return nil, err
	}
	commit, tree, err := s.mergeBranches(ctx, m, in.DestinationCommitSpecifier, in.TargetBranch, option, in.ConflictResolution,
		mergeCommitInfo{in.AuthorName, in.Email, in.CommitMessage})
	if err != nil {
		return nil, err
	}
	return &api.MergeBranchesByThreeWayOutput{CommitId: new(commit), TreeId: new(tree)}, nil
}

// CreateUnreferencedMergeCommit writes a merge commit no branch points to.
func (s *Service) CreateUnreferencedMergeCommit(ctx context.Context, in *api.CreateUnreferencedMergeCommitInput) (*api.CreateUnreferencedMergeCommitOutput, error) {
	m, err := s.openMerge(ctx, in.RepositoryName, in.SourceCommitSpecifier, in.DestinationCommitSpecifier, in.ConflictDetailLevel, in.ConflictResolutionStrategy)
	if err != nil {
		return nil, err
	}
	commit, tree, err := s.mergeCommit(ctx, m, service.Deref(in.MergeOption), in.ConflictResolution,
		mergeCommitInfo{in.AuthorName, in.Email, in.CommitMessage})
	if err != nil {
		return nil, err
	}
	return &api.CreateUnreferencedMergeCommitOutput{CommitId: new(commit), TreeId: new(tree)}, nil
}

// GetMergeOptions lists the merge options that would succeed for the two commits.
func (s *Service) GetMergeOptions(ctx context.Context, in *api.GetMergeOptionsInput) (*api.GetMergeOptionsOutput, error) {
	m, err := s.openMerge(ctx, in.RepositoryName, in.SourceCommitSpecifier, in.DestinationCommitSpecifier, in.ConflictDetailLevel, in.ConflictResolutionStrategy)
	if err != nil {
		return nil, err
	}
	merged, err := m.merge(ctx)
	if err != nil {
		return nil, err
	}
	options := api.MergeOptions{}
	if ff, err := m.canFastForward(ctx); err != nil {
		return nil, err
	} else if ff {
		options = append(options, fastForwardMerge)
	}
	if _, err := m.git.ResolvedTree(ctx, merged, git.Resolution{Strategy: m.strategy}); err == nil {
		options = append(options, squashMerge, threeWayMerge)
	} else if !errors.Is(err, git.ErrConflicts) {
		return nil, err
	}
	return &api.GetMergeOptionsOutput{MergeOptions: options, SourceCommitId: new(m.source),
		DestinationCommitId: new(m.destination), BaseCommitId: new(merged.Base)}, nil
}

// GetMergeCommit finds the merge commit on the destination that merged the source, if any.
func (s *Service) GetMergeCommit(ctx context.Context, in *api.GetMergeCommitInput) (*api.GetMergeCommitOutput, error) {
	m, err := s.openMerge(ctx, in.RepositoryName, in.SourceCommitSpecifier, in.DestinationCommitSpecifier, in.ConflictDetailLevel, in.ConflictResolutionStrategy)
	if err != nil {
		return nil, err
	}
	base, err := m.git.MergeBase(ctx, m.destination, m.source)
	if err != nil {
		return nil, err
	}
	mergedCommit, err := m.git.FindMergeCommit(ctx, m.destination, m.source)
	if err != nil {
		return nil, err
	}
	return &api.GetMergeCommitOutput{SourceCommitId: new(m.source), DestinationCommitId: new(m.destination),
		BaseCommitId: service.OmitZero(base), MergedCommitId: service.OmitZero(mergedCommit)}, nil
}

func isConflictErr(err error) bool { return errors.Is(err, git.ErrConflicts) }

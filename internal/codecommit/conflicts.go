package codecommit

import (
	"context"
	"slices"

	api "overcast/internal/api/codecommit"
	"overcast/internal/git"
	"overcast/internal/service"
)

// defaultMaxConflictFiles and defaultMaxMergeHunks are AWS's page sizes when the caller names none.
const (
	defaultMaxConflictFiles = 100
	defaultMaxMergeHunks    = 100
)

// conflictsOf merges for a conflict operation: a fast-forward has no file conflicts, only a yes or no.
func (s *Service) conflictsOf(ctx context.Context, m *merging, option string) (merged *git.MergeResult, mergeable bool, err error) {
	if option == fastForwardMerge {
		ok, err := m.canFastForward(ctx)
		base, berr := m.git.MergeBase(ctx, m.destination, m.source)
		if err == nil {
			err = berr
		}
		return &git.MergeResult{Base: base, Source: m.source, Destination: m.destination}, ok, err
	}
	if merged, err = m.merge(ctx); err != nil {
		return nil, false, err
	}
	_, err = m.git.ResolvedTree(ctx, merged, git.Resolution{Strategy: m.strategy})
	return merged, err == nil, ignoreConflicts(err)
}

func ignoreConflicts(err error) error {
	if isConflictErr(err) {
		return nil
	}
	return err
}

// conflictQuery is a merge a conflict operation describes, and where its page starts.
type conflictQuery struct {
	*merging
	merged             *git.MergeResult
	mergeable          bool
	from               int
	maxFiles, maxHunks int
}

// queryConflicts resolves and merges what a conflict operation names.
func (s *Service) queryConflicts(ctx context.Context, repoName, source, destination, level, strategy, option, token *string, maxFiles, maxHunks *int32) (*conflictQuery, error) {
	from, err := pageStart(token)
	if err != nil {
		return nil, err
	}
	if maxFiles != nil && *maxFiles < 1 {
		return nil, withMessage(&api.InvalidMaxConflictFilesException{}, "The specified value for the number of conflict files to return is not valid.")
	}
	if maxHunks != nil && *maxHunks < 1 {
		return nil, withMessage(&api.InvalidMaxMergeHunksException{}, "The specified value for the number of merge hunks to return is not valid.")
	}
	m, err := s.openMerge(ctx, repoName, source, destination, level, strategy)
	if err != nil {
		return nil, err
	}
	merged, mergeable, err := s.conflictsOf(ctx, m, service.Deref(option))
	if err != nil {
		return nil, err
	}
	return &conflictQuery{merging: m, merged: merged, mergeable: mergeable, from: from,
		maxFiles: int(service.DerefOr(maxFiles, defaultMaxConflictFiles)), maxHunks: int(service.DerefOr(maxHunks, defaultMaxMergeHunks))}, nil
}

// GetMergeConflicts lists the files that conflict in a merge.
func (s *Service) GetMergeConflicts(ctx context.Context, in *api.GetMergeConflictsInput) (*api.GetMergeConflictsOutput, error) {
	q, err := s.queryConflicts(ctx, in.RepositoryName, in.SourceCommitSpecifier, in.DestinationCommitSpecifier, in.ConflictDetailLevel,
		in.ConflictResolutionStrategy, in.MergeOption, in.NextToken, in.MaxConflictFiles, nil)
	if err != nil {
		return nil, err
	}
	m, merged, from := q.merging, q.merged, q.from
	conflicts, next, err := pageOf(merged.Conflicts, from, q.maxFiles)
	if err != nil {
		return nil, err
	}
	return &api.GetMergeConflictsOutput{
		Mergeable: new(q.mergeable), SourceCommitId: new(m.source), DestinationCommitId: new(m.destination),
		BaseCommitId: service.OmitZero(merged.Base), NextToken: next,
		ConflictMetadataList: service.Map(conflicts, conflictMetadata),
	}, nil
}

// DescribeMergeConflicts describes one conflicting file, with its merge hunks.
func (s *Service) DescribeMergeConflicts(ctx context.Context, in *api.DescribeMergeConflictsInput) (*api.DescribeMergeConflictsOutput, error) {
	q, err := s.queryConflicts(ctx, in.RepositoryName, in.SourceCommitSpecifier, in.DestinationCommitSpecifier, in.ConflictDetailLevel,
		in.ConflictResolutionStrategy, in.MergeOption, in.NextToken, nil, in.MaxMergeHunks)
	if err != nil {
		return nil, err
	}
	m, merged, from := q.merging, q.merged, q.from
	path := service.Deref(in.FilePath)
	for _, c := range merged.Conflicts {
		if c.Path != path {
			continue
		}
		hunks, next, err := pageOf(c.Hunks, from, q.maxHunks)
		if err != nil {
			return nil, err
		}
		return &api.DescribeMergeConflictsOutput{
			ConflictMetadata: new(conflictMetadata(c)), MergeHunks: service.Map(hunks, mergeHunk), NextToken: next,
			SourceCommitId: new(m.source), DestinationCommitId: new(m.destination), BaseCommitId: service.OmitZero(merged.Base),
		}, nil
	}
	return nil, withMessage(&api.FileDoesNotExistException{}, "The file %s has no merge conflict.", path)
}

// BatchDescribeMergeConflicts describes several conflicting files, with their merge hunks.
func (s *Service) BatchDescribeMergeConflicts(ctx context.Context, in *api.BatchDescribeMergeConflictsInput) (*api.BatchDescribeMergeConflictsOutput, error) {
	q, err := s.queryConflicts(ctx, in.RepositoryName, in.SourceCommitSpecifier, in.DestinationCommitSpecifier, in.ConflictDetailLevel,
		in.ConflictResolutionStrategy, in.MergeOption, in.NextToken, in.MaxConflictFiles, in.MaxMergeHunks)
	if err != nil {
		return nil, err
	}
	m, merged, from := q.merging, q.merged, q.from
	var wanted []git.Conflict
	for _, c := range merged.Conflicts {
		if len(in.FilePaths) == 0 || slices.Contains(in.FilePaths, c.Path) {
			wanted = append(wanted, c)
		}
	}
	conflicts, next, err := pageOf(wanted, from, q.maxFiles)
	if err != nil {
		return nil, err
	}
	out := &api.BatchDescribeMergeConflictsOutput{Conflicts: api.Conflicts{}, NextToken: next,
		SourceCommitId: new(m.source), DestinationCommitId: new(m.destination), BaseCommitId: service.OmitZero(merged.Base)}
	for _, c := range conflicts {
		hunks := c.Hunks[:min(q.maxHunks, len(c.Hunks))]
		out.Conflicts = append(out.Conflicts, api.Conflict{ConflictMetadata: new(conflictMetadata(c)), MergeHunks: service.Map(hunks, mergeHunk)})
	}
	return out, nil
}

// conflictMetadata is a conflict as the API describes it.
func conflictMetadata(c git.Conflict) api.ConflictMetadata {
	sides := [3]git.Version{c.Source, c.Destination, c.Base}
	var sizes [3]*int64
	var modes, types [3]*string
	var binary [3]*bool
	for i, v := range sides {
		if !v.Exists() {
			continue
		}
		sizes[i], modes[i], types[i] = new(v.Size), service.OmitZero(fileModes[v.Mode]), new(git.ObjectType(v.Mode))
		// A content conflict git found no lines in is between binary files.
		binary[i] = new(c.Content && !c.AutoMergeable && len(c.Hunks) == 0 && c.Source.Exists() && c.Destination.Exists())
	}
	conflicts := int32(len(c.Hunks))
	if conflicts == 0 {
		conflicts = 1
	}
	return api.ConflictMetadata{
		FilePath:           new(c.Path),
		FileSizes:          &api.FileSizes{Source: sizes[0], Destination: sizes[1], Base: sizes[2]},
		FileModes:          &api.FileModes{Source: modes[0], Destination: modes[1], Base: modes[2]},
		ObjectTypes:        &api.ObjectTypes{Source: types[0], Destination: types[1], Base: types[2]},
		IsBinaryFile:       &api.IsBinaryFile{Source: binary[0], Destination: binary[1], Base: binary[2]},
		NumberOfConflicts:  new(conflicts),
		ContentConflict:    new(c.Content),
		FileModeConflict:   new(c.FileMode),
		ObjectTypeConflict: new(c.ObjectType),
		MergeOperations:    &api.MergeOperations{Source: mergeOperation(c.Base, c.Source), Destination: mergeOperation(c.Base, c.Destination)},
	}
}

// mergeOperation is what a side did to a file since the base: A(dded), M(odified) or D(eleted).
func mergeOperation(base, side git.Version) *string {
	switch {
	case !base.Exists() && side.Exists():
		return new("A")
	case base.Exists() && !side.Exists():
		return new("D")
	case base != side:
		return new("M")
	}
	return nil
}

func mergeHunk(h git.Hunk) api.MergeHunk {
	detail := func(side git.HunkSide) *api.MergeHunkDetail {
		return &api.MergeHunkDetail{StartLine: new(int32(side.StartLine)), EndLine: new(int32(side.EndLine)), HunkContent: new(side.Content)}
	}
	return api.MergeHunk{IsConflict: new(true), Source: detail(h.Source), Destination: detail(h.Destination), Base: detail(h.Base)}
}

package codecommit

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"

	api "overcast/internal/api/codecommit"
	"overcast/internal/awsproto"
	"overcast/internal/git"
	"overcast/internal/service"
)

const branchPrefix = "refs/heads/"

// branchPageSize is how many branches ListBranches returns a page.
const branchPageSize = 100

// commitIDPattern is a full commit ID: CodeCommit takes no abbreviations.
var commitIDPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// checkBranchName answers AWS's errors for a branch name CodeCommit
// refuses: git's rules for reference names, at most 256 characters.
func checkBranchName(name string) error {
	if name == "" {
		return withMessage(&api.BranchNameRequiredException{}, "A branch name is required but was not specified.")
	}
	if len(name) > 256 || !git.ValidBranchName(name) {
		return withMessage(&api.InvalidBranchNameException{}, "The specified reference name is not valid.")
	}
	return nil
}

func branchDoesNotExist(name string) error {
	return withMessage(&api.BranchDoesNotExistException{}, "Could not find branch %s", name)
}

// branchHead returns the commit branch points at, "" when it does not
// exist.
func branchHead(ctx context.Context, repo *git.Repo, branch string) (string, error) {
	id, err := repo.ResolveRef(ctx, branchPrefix+branch)
	if errors.Is(err, git.ErrNotFound) {
		return "", nil
	}
	return id, err
}

// lookupBranch reads the repository a request names and checks the
// branch name it gives.
func (s *Service) lookupBranch(ctx context.Context, repositoryName, branchName *string) (scope, repository, string, error) {
	sc, r, err := s.lookup(ctx, repositoryName)
	name := service.Deref(branchName)
	if err == nil {
		err = checkBranchName(name)
	}
	return sc, r, name, err
}

// existingBranch returns the commit branch points at, or
// BranchDoesNotExistException.
func existingBranch(ctx context.Context, repo *git.Repo, branch string) (string, error) {
	head, err := branchHead(ctx, repo, branch)
	if err == nil && head == "" {
		err = branchDoesNotExist(branch)
	}
	return head, err
}

// checkCommitID answers AWS's errors for a commit ID CodeCommit refuses
// or does not have, with the caller's required/invalid/missing errors.
func checkCommitID(ctx context.Context, repo *git.Repo, id string, required, invalid, missing awsproto.APIError) error {
	switch {
	case id == "":
		return withMessage(required, "A commit ID is required but was not specified.")
	case !commitIDPattern.MatchString(id):
		return withMessage(invalid, "The specified commit ID is not valid.")
	}
	if t, err := repo.ObjectType(ctx, id); err != nil || t != "commit" {
		return withMessage(missing, "Could not find commit %s", id)
	}
	return nil
}

// CreateBranch makes a branch at a commit.
func (s *Service) CreateBranch(ctx context.Context, in *api.CreateBranchInput) error {
	sc, r, name, err := s.lookupBranch(ctx, in.RepositoryName, in.BranchName)
	if err != nil {
		return err
	}
	commit := service.Deref(in.CommitId)
	repo := s.repo(sc, &r)
	if err := checkCommitID(ctx, repo, commit, &api.CommitIdRequiredException{}, &api.InvalidCommitIdException{},
		&api.CommitDoesNotExistException{}); err != nil {
		return err
	}
	err = repo.UpdateRef(ctx, branchPrefix+name, commit, git.ZeroID)
	if errors.Is(err, git.ErrRefChanged) {
		return withMessage(&api.BranchNameExistsException{}, "Cannot create branch with name %s because a branch with that name already exists.", name)
	}
	if err != nil {
		return err
	}
	return s.recordChanges(ctx, sc, r.Name, []RefChange{{Ref: branchPrefix + name, New: commit}})
}

// GetBranch returns the commit a branch points at.
func (s *Service) GetBranch(ctx context.Context, in *api.GetBranchInput) (*api.GetBranchOutput, error) {
	sc, r, name, err := s.lookupBranch(ctx, in.RepositoryName, in.BranchName)
	if err != nil {
		return nil, err
	}
	head, err := existingBranch(ctx, s.repo(sc, &r), name)
	if err != nil {
		return nil, err
	}
	return &api.GetBranchOutput{Branch: &api.BranchInfo{BranchName: new(name), CommitId: new(head)}}, nil
}

// ListBranches lists a repository's branch names, 100 a page.
func (s *Service) ListBranches(ctx context.Context, in *api.ListBranchesInput) (*api.ListBranchesOutput, error) {
	sc, r, err := s.lookup(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	start, err := pageStart(in.NextToken)
	if err != nil {
		return nil, err
	}
	refs, err := s.repo(sc, &r).ListRefs(ctx, branchPrefix)
	if err != nil {
		return nil, err
	}
	names := service.Map(refs, func(ref git.Ref) string { return strings.TrimPrefix(ref.Name, branchPrefix) })
	page, next, err := pageOf(names, start, branchPageSize)
	if err != nil {
		return nil, err
	}
	return &api.ListBranchesOutput{Branches: append(api.BranchNameList{}, page...), NextToken: next}, nil
}

// DeleteBranch deletes a branch other than the default one.
func (s *Service) DeleteBranch(ctx context.Context, in *api.DeleteBranchInput) (*api.DeleteBranchOutput, error) {
	sc, r, name, err := s.lookupBranch(ctx, in.RepositoryName, in.BranchName)
	if err != nil {
		return nil, err
	}
	if name == r.DefaultBranch {
		return nil, withMessage(&api.DefaultBranchCannotBeDeletedException{}, "The default branch cannot be deleted.")
	}
	repo := s.repo(sc, &r)
	head, err := branchHead(ctx, repo, name)
	if err != nil || head == "" {
		// AWS answers a branch that does not exist with no deleted branch.
		return &api.DeleteBranchOutput{}, err
	}
	if err := repo.UpdateRef(ctx, branchPrefix+name, git.ZeroID, head); err != nil {
		return nil, err
	}
	if err := s.recordChanges(ctx, sc, r.Name, []RefChange{{Ref: branchPrefix + name, Old: head}}); err != nil {
		return nil, err
	}
	return &api.DeleteBranchOutput{DeletedBranch: &api.BranchInfo{BranchName: new(name), CommitId: new(head)}}, nil
}

// UpdateDefaultBranch makes an existing branch the default, which clones
// check out.
func (s *Service) UpdateDefaultBranch(ctx context.Context, in *api.UpdateDefaultBranchInput) error {
	sc, r, name, err := s.lookupBranch(ctx, in.RepositoryName, in.DefaultBranchName)
	if err != nil {
		return err
	}
	repo := s.repo(sc, &r)
	if _, err := existingBranch(ctx, repo, name); err != nil {
		return err
	}
	if err := repo.SetHead(ctx, name); err != nil {
		return err
	}
	_, err = s.update(ctx, r.Name, func(r *repository) error {
		r.DefaultBranch = name
		return nil
	})
	return err
}

var invalidContinuationToken = withMessage(&api.InvalidContinuationTokenException{}, "The continuation token is not valid.")

// pageStart is the offset a list's continuation token carries.
func pageStart(token *string) (int, error) {
	after, err := awsproto.PageAfter(token, invalidContinuationToken)
	if err != nil || after == "" {
		return 0, err
	}
	start, err := strconv.Atoi(after)
	if err != nil || start < 0 {
		return 0, invalidContinuationToken
	}
	return start, nil
}

// pageOf is the page of all that starts at start, and the token of the
// next page when there is one.
func pageOf[T any](all []T, start, size int) ([]T, *string, error) {
	if start > len(all) {
		return nil, nil, invalidContinuationToken
	}
	end := min(start+size, len(all))
	var next *string
	if end < len(all) {
		next = awsproto.PageToken(strconv.Itoa(end))
	}
	return all[start:end], next, nil
}

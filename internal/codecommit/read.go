package codecommit

import (
	"cmp"
	"context"
	"errors"
	"path"
	"strings"

	api "overcast/internal/api/codecommit"
	"overcast/internal/git"
	"overcast/internal/service"
)

// maxFileSize is the largest file the API reads or writes: 6 MB.
const maxFileSize = 6 << 20

// differencesPageSize is GetDifferences' default and largest page.
const differencesPageSize = 100

// fileModes are CodeCommit's names of git's file modes.
var fileModes = map[string]string{
	git.ModeFile:       api.FileModeTypeEnumNORMAL,
	git.ModeExecutable: api.FileModeTypeEnumEXECUTABLE,
	git.ModeSymlink:    api.FileModeTypeEnumSYMLINK,
}

func commitDoesNotExist(spec string) error {
	return withMessage(&api.CommitDoesNotExistException{}, "Could not find commit %s", spec)
}

// resolveSpecifier is the commit a commit specifier names: a branch, a
// tag, a full reference name or commit ID, or HEAD; none means HEAD, the
// default branch.
func (s *Service) resolveSpecifier(ctx context.Context, repo *git.Repo, r *repository, spec string) (string, error) {
	if spec == "" || spec == "HEAD" {
		spec = r.DefaultBranch
		if spec == "" {
			return "", withMessage(&api.CommitDoesNotExistException{}, "The repository has no commits.")
		}
	}
	candidates := []string{branchPrefix + spec, "refs/tags/" + spec}
	if commitIDPattern.MatchString(spec) || strings.HasPrefix(spec, "refs/") && git.ValidBranchName(spec) {
		candidates = append(candidates, spec)
	}
	for _, rev := range candidates {
		id, err := repo.ResolveCommit(ctx, rev)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, git.ErrNotFound) {
			return "", err
		}
	}
	return "", commitDoesNotExist(spec)
}

// atCommit reads the repository a request names and resolves its commit
// specifier.
func (s *Service) atCommit(ctx context.Context, repositoryName, spec *string) (*git.Repo, string, error) {
	sc, r, err := s.lookup(ctx, repositoryName)
	if err != nil {
		return nil, "", err
	}
	repo := s.repo(sc, &r)
	commit, err := s.resolveSpecifier(ctx, repo, &r, service.Deref(spec))
	return repo, commit, err
}

// cleanPath is path as a tree path: without the leading slash AWS allows,
// or InvalidPathException for one that leaves the repository or names
// nothing.
func cleanPath(p string) (string, error) {
	trimmed := strings.Trim(p, "/")
	if trimmed == "" || path.Clean(trimmed) != trimmed || strings.HasPrefix(trimmed, "..") || strings.Contains(trimmed, "\x00") {
		return "", withMessage(&api.InvalidPathException{}, "The specified path is not valid.")
	}
	for part := range strings.SplitSeq(trimmed, "/") {
		if part == ".git" || part == "." || part == ".." {
			return "", withMessage(&api.InvalidPathException{}, "The specified path is not valid.")
		}
	}
	return trimmed, nil
}

func userInfo(sig git.Signature) *api.UserInfo {
	return &api.UserInfo{Name: new(sig.Name), Email: new(sig.Email), Date: new(sig.Raw)}
}

func commitOf(c git.Commit) *api.Commit {
	return &api.Commit{CommitId: new(c.ID), TreeId: new(c.Tree), Parents: append(api.ParentList{}, c.Parents...),
		Message: new(c.Message), Author: userInfo(c.Author), Committer: userInfo(c.Committer), AdditionalData: new("")}
}

// GetCommit describes a commit.
func (s *Service) GetCommit(ctx context.Context, in *api.GetCommitInput) (*api.GetCommitOutput, error) {
	sc, r, err := s.lookup(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	id := service.Deref(in.CommitId)
	repo := s.repo(sc, &r)
	if err := checkCommitID(ctx, repo, id, &api.CommitIdRequiredException{}, &api.InvalidCommitIdException{},
		&api.CommitIdDoesNotExistException{}); err != nil {
		return nil, err
	}
	c, err := repo.ReadCommit(ctx, id)
	if err != nil {
		return nil, err
	}
	return &api.GetCommitOutput{Commit: commitOf(c)}, nil
}

// BatchGetCommits describes up to 100 commits, reporting the ones it
// cannot find apart.
func (s *Service) BatchGetCommits(ctx context.Context, in *api.BatchGetCommitsInput) (*api.BatchGetCommitsOutput, error) {
	sc, r, err := s.lookup(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	switch {
	case len(in.CommitIds) == 0:
		return nil, withMessage(&api.CommitIdsListRequiredException{}, "A list of commit IDs is required, but was either not specified or the list was empty.")
	case len(in.CommitIds) > 100:
		return nil, withMessage(&api.CommitIdsLimitExceededException{}, "The maximum number of allowed commit IDs in a batch request is 100.")
	}
	repo := s.repo(sc, &r)
	out := &api.BatchGetCommitsOutput{Commits: api.CommitObjectsList{}, Errors: api.BatchGetCommitsErrorsList{}}
	for _, id := range in.CommitIds {
		c, err := repo.ReadCommit(ctx, id)
		if !commitIDPattern.MatchString(id) || errors.Is(err, git.ErrNotFound) {
			out.Errors = append(out.Errors, api.BatchGetCommitsError{CommitId: new(id), ErrorCode: new("CommitIdDoesNotExistException"),
				ErrorMessage: new("The specified commit ID does not exist.")})
			continue
		}
		if err != nil {
			return nil, err
		}
		out.Commits = append(out.Commits, *commitOf(c))
	}
	return out, nil
}

// GetFile returns a file's content and metadata at a commit.
func (s *Service) GetFile(ctx context.Context, in *api.GetFileInput) (*api.GetFileOutput, error) {
	p, err := cleanPath(service.Deref(in.FilePath))
	if err != nil {
		return nil, err
	}
	repo, commit, err := s.atCommit(ctx, in.RepositoryName, in.CommitSpecifier)
	if err != nil {
		return nil, err
	}
	e, err := repo.Entry(ctx, commit, p)
	if errors.Is(err, git.ErrNotFound) || err == nil && e.Type != "blob" {
		return nil, fileDoesNotExist(p)
	}
	if err != nil {
		return nil, err
	}
	content, err := readBlob(ctx, repo, e.ID)
	if err != nil {
		return nil, err
	}
	return &api.GetFileOutput{CommitId: new(commit), BlobId: new(e.ID), FilePath: new(p), FileMode: new(fileModes[e.Mode]),
		FileSize: new(int64(len(content))), FileContent: content}, nil
}

func fileDoesNotExist(p string) error {
	return withMessage(&api.FileDoesNotExistException{}, "The file %s does not exist.", p)
}

// readBlob reads a blob of at most maxFileSize bytes.
func readBlob(ctx context.Context, repo *git.Repo, id string) ([]byte, error) {
	content, err := repo.ReadBlob(ctx, id, maxFileSize)
	if errors.Is(err, git.ErrTooLarge) {
		return nil, withMessage(&api.FileTooLargeException{}, "The specified file exceeds the file size limit for CodeCommit.")
	}
	return content, err
}

// GetBlob returns a blob's content.
func (s *Service) GetBlob(ctx context.Context, in *api.GetBlobInput) (*api.GetBlobOutput, error) {
	sc, r, err := s.lookup(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	id := service.Deref(in.BlobId)
	switch {
	case id == "":
		return nil, withMessage(&api.BlobIdRequiredException{}, "A blob ID is required but was not specified.")
	case !commitIDPattern.MatchString(id):
		return nil, withMessage(&api.InvalidBlobIdException{}, "The specified blob ID is not valid.")
	}
	content, err := readBlob(ctx, s.repo(sc, &r), id)
	if errors.Is(err, git.ErrNotFound) {
		return nil, withMessage(&api.BlobIdDoesNotExistException{}, "The specified blob does not exist.")
	}
	if err != nil {
		return nil, err
	}
	return &api.GetBlobOutput{Content: content}, nil
}

// GetFolder lists a folder's files, folders, symbolic links and
// submodules at a commit.
func (s *Service) GetFolder(ctx context.Context, in *api.GetFolderInput) (*api.GetFolderOutput, error) {
	folder := strings.Trim(service.Deref(in.FolderPath), "/")
	if folder != "" {
		var err error
		if folder, err = cleanPath(folder); err != nil {
			return nil, err
		}
	}
	repo, commit, err := s.atCommit(ctx, in.RepositoryName, in.CommitSpecifier)
	if err != nil {
		return nil, err
	}
	self, err := repo.Entry(ctx, commit, folder)
	if errors.Is(err, git.ErrNotFound) || err == nil && self.Type != "tree" {
		return nil, withMessage(&api.FolderDoesNotExistException{}, "The folder %s does not exist.", folder)
	}
	if err != nil {
		return nil, err
	}
	entries, err := repo.LsTree(ctx, commit, folder, false)
	if err != nil {
		return nil, err
	}
	out := &api.GetFolderOutput{CommitId: new(commit), FolderPath: new(folder), TreeId: new(self.ID),
		SubFolders: api.FolderList{}, Files: api.FileList{}, SymbolicLinks: api.SymbolicLinkList{}, SubModules: api.SubModuleList{}}
	for _, e := range entries {
		rel := path.Base(e.Path)
		switch {
		case e.Type == "tree":
			out.SubFolders = append(out.SubFolders, api.Folder{TreeId: new(e.ID), AbsolutePath: new(e.Path), RelativePath: new(rel)})
		case e.Type == "commit":
			out.SubModules = append(out.SubModules, api.SubModule{CommitId: new(e.ID), AbsolutePath: new(e.Path), RelativePath: new(rel)})
		case e.Mode == git.ModeSymlink:
			out.SymbolicLinks = append(out.SymbolicLinks, api.SymbolicLink{BlobId: new(e.ID), AbsolutePath: new(e.Path),
				RelativePath: new(rel), FileMode: new(fileModes[e.Mode])})
		default:
			out.Files = append(out.Files, api.File{BlobId: new(e.ID), AbsolutePath: new(e.Path), RelativePath: new(rel),
				FileMode: new(fileModes[e.Mode])})
		}
	}
	return out, nil
}

// GetDifferences lists the files that differ between two commits (or
// that the after commit adds to an empty tree), optionally below paths.
func (s *Service) GetDifferences(ctx context.Context, in *api.GetDifferencesInput) (*api.GetDifferencesOutput, error) {
	sc, r, err := s.lookup(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	size := differencesPageSize
	if in.MaxResults != nil {
		if *in.MaxResults < 1 {
			return nil, withMessage(&api.InvalidMaxResultsException{}, "The specified number of maximum results is not valid.")
		}
		size = min(size, int(*in.MaxResults))
	}
	start, err := pageStart(in.NextToken)
	if err != nil {
		return nil, err
	}
	repo := s.repo(sc, &r)
	if service.Deref(in.AfterCommitSpecifier) == "" {
		return nil, withMessage(&api.CommitRequiredException{}, "A commit is required but was not specified.")
	}
	after, err := s.resolveSpecifier(ctx, repo, &r, *in.AfterCommitSpecifier)
	if err != nil {
		return nil, err
	}
	before := ""
	if spec := service.Deref(in.BeforeCommitSpecifier); spec != "" {
		if before, err = s.resolveSpecifier(ctx, repo, &r, spec); err != nil {
			return nil, err
		}
	}
	var paths []string
	for _, p := range []*string{in.BeforePath, in.AfterPath} {
		if service.Deref(p) == "" {
			continue
		}
		clean, err := cleanPath(*p)
		if err != nil {
			return nil, err
		}
		if _, err := repo.Entry(ctx, cmp.Or(before, after), clean); err != nil && p == in.BeforePath && before != "" {
			return nil, withMessage(&api.PathDoesNotExistException{}, "The specified path %s does not exist.", clean)
		}
		paths = append(paths, clean)
	}
	changes, err := repo.Diff(ctx, before, after, service.Distinct(paths)...)
	if err != nil {
		return nil, err
	}
	page, next, err := pageOf(changes, start, size)
	if err != nil {
		return nil, err
	}
	out := &api.GetDifferencesOutput{Differences: api.DifferenceList{}, NextToken: next}
	for _, c := range page {
		d := api.Difference{ChangeType: new(c.Type)}
		if c.Type != "A" {
			d.BeforeBlob = &api.BlobMetadata{BlobId: new(c.BeforeBlob), Path: new(c.Path), Mode: new(c.BeforeMode)}
		}
		if c.Type != "D" {
			d.AfterBlob = &api.BlobMetadata{BlobId: new(c.AfterBlob), Path: new(c.Path), Mode: new(c.AfterMode)}
		}
		out.Differences = append(out.Differences, d)
	}
	return out, nil
}

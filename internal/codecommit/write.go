package codecommit

import (
	"cmp"
	"context"
	"errors"
	"path"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/codecommit"
	"overcast/internal/git"
	"overcast/internal/service"
)

const (
	// maxFileEntries is how many files one API commit may change.
	maxFileEntries = 100
	// maxCommitMessage is the longest commit message the API takes.
	maxCommitMessage = 100 << 10
	// keepFile is what keeps a folder a commit empties when the caller
	// asks to keep empty folders: git stores no empty trees.
	keepFile = ".gitkeep"
)

// gitModes are git's file modes for CodeCommit's names.
var gitModes = map[string]string{
	api.FileModeTypeEnumNORMAL:     git.ModeFile,
	api.FileModeTypeEnumEXECUTABLE: git.ModeExecutable,
	api.FileModeTypeEnumSYMLINK:    git.ModeSymlink,
}

// edit is one change an API commit asks for, before it is checked
// against the parent commit.
type edit struct {
	path    string
	del     bool
	modeSet bool   // SetFileModes: change only the mode
	mode    string // CodeCommit's name; "" keeps the file's or is NORMAL
	content []byte
	// source names a file of the parent to copy (or move) instead of content.
	source *api.SourceFileSpecifier
}

// commitRequest is what PutFile, DeleteFile and CreateCommit ask for.
type commitRequest struct {
	repositoryName   *string
	branch           string
	parent           string
	name, email      string
	message          string
	keepEmptyFolders bool
	edits            []edit
	// sameContentFails makes a put that changes nothing a
	// SameFileContentException (PutFile) rather than a NoChangeException.
	sameContentFails bool
}

// fileResult is a file a commit added, updated or deleted.
type fileResult struct {
	path, blob, mode string
}

type commitResult struct {
	commit, tree            string
	added, updated, deleted []fileResult
}

// PutFile adds or replaces one file on a branch.
func (s *Service) PutFile(ctx context.Context, in *api.PutFileInput) (*api.PutFileOutput, error) {
	if len(in.FileContent) == 0 {
		return nil, withMessage(&api.FileContentRequiredException{},
			"The file cannot be added because it is empty. Empty files cannot be added to the repository with this API.")
	}
	res, err := s.commit(ctx, commitRequest{repositoryName: in.RepositoryName, branch: service.Deref(in.BranchName),
		parent: service.Deref(in.ParentCommitId), name: service.Deref(in.Name), email: service.Deref(in.Email),
		message: service.Deref(in.CommitMessage), sameContentFails: true,
		edits: []edit{{path: service.Deref(in.FilePath), mode: service.Deref(in.FileMode), content: in.FileContent}}})
	if err != nil {
		return nil, err
	}
	blob := slices.Concat(res.added, res.updated)[0].blob
	return &api.PutFileOutput{CommitId: new(res.commit), BlobId: new(blob), TreeId: new(res.tree)}, nil
}

// DeleteFile deletes one file from a branch.
func (s *Service) DeleteFile(ctx context.Context, in *api.DeleteFileInput) (*api.DeleteFileOutput, error) {
	res, err := s.commit(ctx, commitRequest{repositoryName: in.RepositoryName, branch: service.Deref(in.BranchName),
		parent: service.Deref(in.ParentCommitId), name: service.Deref(in.Name), email: service.Deref(in.Email),
		message: service.Deref(in.CommitMessage), keepEmptyFolders: service.Deref(in.KeepEmptyFolders),
		edits: []edit{{path: service.Deref(in.FilePath), del: true}}})
	if err != nil {
		return nil, err
	}
	d := res.deleted[0]
	return &api.DeleteFileOutput{CommitId: new(res.commit), BlobId: new(d.blob), TreeId: new(res.tree), FilePath: new(d.path)}, nil
}

// CreateCommit commits a set of added, replaced, deleted and re-moded
// files on a branch.
func (s *Service) CreateCommit(ctx context.Context, in *api.CreateCommitInput) (*api.CreateCommitOutput, error) {
	var edits []edit
	for _, p := range in.PutFiles {
		if p.FileContent != nil && p.SourceFile != nil {
			return nil, withMessage(&api.FileContentAndSourceFileSpecifiedException{},
				"The commit cannot be created because both a source file and file content have been specified for the same file.")
		}
		if p.FileContent == nil && p.SourceFile == nil {
			return nil, withMessage(&api.SourceFileOrContentRequiredException{},
				"The commit cannot be created because no source files or file content have been specified for the commit.")
		}
		edits = append(edits, edit{path: service.Deref(p.FilePath), mode: service.Deref(p.FileMode), content: p.FileContent, source: p.SourceFile})
	}
	for _, d := range in.DeleteFiles {
		edits = append(edits, edit{path: service.Deref(d.FilePath), del: true})
	}
	for _, m := range in.SetFileModes {
		if service.Deref(m.FileMode) == "" {
			return nil, withMessage(&api.FileModeRequiredException{}, "The commit cannot be created because no file mode has been specified.")
		}
		edits = append(edits, edit{path: service.Deref(m.FilePath), modeSet: true, mode: *m.FileMode})
	}
	if len(edits) == 0 {
		return nil, withMessage(&api.FileEntryRequiredException{},
			"The commit cannot be created because no files have been specified as added, updated, or changed (PutFile or DeleteFile) for the commit.")
	}
	res, err := s.commit(ctx, commitRequest{repositoryName: in.RepositoryName, branch: service.Deref(in.BranchName),
		parent: service.Deref(in.ParentCommitId), name: service.Deref(in.AuthorName), email: service.Deref(in.Email),
		message: service.Deref(in.CommitMessage), keepEmptyFolders: service.Deref(in.KeepEmptyFolders), edits: edits})
	if err != nil {
		return nil, err
	}
	metadata := func(files []fileResult) api.FilesMetadata {
		return append(api.FilesMetadata{}, service.Map(files, func(f fileResult) api.FileMetadata {
			return api.FileMetadata{AbsolutePath: new(f.path), BlobId: new(f.blob), FileMode: new(fileModes[f.mode])}
		})...)
	}
	return &api.CreateCommitOutput{CommitId: new(res.commit), TreeId: new(res.tree), FilesAdded: metadata(res.added),
		FilesUpdated: metadata(res.updated), FilesDeleted: metadata(res.deleted)}, nil
}

// commit makes the commit req asks for on its branch, after AWS's checks
// of the branch, the parent and every file, and moves the branch to it if
// nobody else moved it first.
func (s *Service) commit(ctx context.Context, req commitRequest) (commitResult, error) {
	sc, r, err := s.lookup(ctx, req.repositoryName)
	if err != nil {
		return commitResult{}, err
	}
	if err := checkBranchName(req.branch); err != nil {
		return commitResult{}, err
	}
	if len(req.edits) > maxFileEntries {
		return commitResult{}, withMessage(&api.MaximumFileEntriesExceededException{},
			"The number of specified files to change as part of this commit exceeds the maximum number of files that can be changed in a single commit.")
	}
	if len(req.message) > maxCommitMessage {
		return commitResult{}, withMessage(&api.CommitMessageLengthExceededException{}, "The commit message is too long.")
	}
	repo := s.repo(sc, &r)
	head, err := branchHead(ctx, repo, req.branch)
	if err != nil {
		return commitResult{}, err
	}
	parent, err := checkParent(ctx, repo, req.branch, head, req.parent)
	if err != nil {
		return commitResult{}, err
	}
	changes, res, err := planChanges(ctx, repo, parent, req)
	if err != nil {
		return commitResult{}, err
	}
	now := s.Now()
	who := git.Signature{Name: req.name, Email: req.email, When: now}
	if who.Name == "" {
		who.Name = callerName(ctx)
	}
	nc := git.NewCommit{Parent: parent, Changes: changes, Author: who, Committer: who, Message: req.message}
	commit, err := repo.WriteCommit(ctx, nc)
	if err != nil {
		return commitResult{}, err
	}
	if req.keepEmptyFolders && len(res.deleted) > 0 {
		if commit, err = keepFolders(ctx, repo, commit, nc, res.deleted); err != nil {
			return commitResult{}, err
		}
	}
	c, err := repo.ReadCommit(ctx, commit)
	if err != nil {
		return commitResult{}, err
	}
	if parent != "" {
		if p, err := repo.ReadCommit(ctx, parent); err == nil && p.Tree == c.Tree {
			return commitResult{}, withMessage(&api.NoChangeException{}, "The commit cannot be created because no changes will be made to "+
				"the repository as a result of this commit. A commit must contain at least one change.")
		}
	}
	if err := repo.UpdateRef(ctx, branchPrefix+req.branch, commit, head); err != nil {
		if errors.Is(err, git.ErrRefChanged) {
			return commitResult{}, parentOutdated()
		}
		return commitResult{}, err
	}
	if err := s.recordChanges(ctx, sc, r.Name, []RefChange{{Ref: branchPrefix + req.branch, Old: head, New: commit}}); err != nil {
		return commitResult{}, err
	}
	res.commit, res.tree = commit, c.Tree
	return res, nil
}

func parentOutdated() error {
	return withMessage(&api.ParentCommitIdOutdatedException{},
		"The file could not be added because the provided parent commit ID is not the current tip of the specified branch.")
}

// checkParent applies AWS's rules to a commit's parent: a branch that
// exists takes the commit of its tip and no other; a new branch starts at
// the parent given, or, in an empty repository, with none.
func checkParent(ctx context.Context, repo *git.Repo, branch, head, parent string) (string, error) {
	if parent == "" {
		if head != "" {
			return "", withMessage(&api.ParentCommitIdRequiredException{},
				"A parent commit ID is required. To view the full commit ID of a branch in a repository, use GetBranch or a Git command.")
		}
		if refs, err := repo.ListRefs(ctx, branchPrefix); err != nil || len(refs) > 0 {
			if err != nil {
				return "", err
			}
			return "", branchDoesNotExist(branch)
		}
		return "", nil
	}
	if err := checkCommitID(ctx, repo, parent, &api.ParentCommitIdRequiredException{}, &api.InvalidParentCommitIdException{},
		&api.ParentCommitDoesNotExistException{}); err != nil {
		return "", err
	}
	if head != "" && parent != head {
		return "", parentOutdated()
	}
	return parent, nil
}

// callerName is the author name of a commit whose caller gave none: the
// caller's user or role name, as AWS writes it.
func callerName(ctx context.Context) string {
	arn := overcast.CallerFrom(ctx).ARN
	if i := strings.LastIndexAny(arn, "/:"); i >= 0 {
		arn = arn[i+1:]
	}
	return cmp.Or(arn, "overcast")
}

// planChanges checks each edit against the parent's tree and turns it
// into git's changes, reporting what the commit adds, updates and
// deletes.
func planChanges(ctx context.Context, repo *git.Repo, parent string, req commitRequest) ([]git.FileChange, commitResult, error) {
	var res commitResult
	var changes []git.FileChange
	seen := map[string]bool{}
	entry := func(p string) (git.TreeEntry, bool, error) {
		if parent == "" {
			return git.TreeEntry{}, false, nil
		}
		e, err := repo.Entry(ctx, parent, p)
		if errors.Is(err, git.ErrNotFound) {
			return git.TreeEntry{}, false, nil
		}
		return e, err == nil, err
	}
	for _, ed := range req.edits {
		p, err := cleanPath(ed.path)
		if err != nil {
			return nil, res, err
		}
		if seen[p] {
			return nil, res, withMessage(&api.SamePathRequestException{},
				"The commit cannot be created because one or more changes in this commit duplicate actions in the same file path.")
		}
		seen[p] = true
		old, exists, err := entry(p)
		if err != nil {
			return nil, res, err
		}
		if exists && old.Type != "blob" && !ed.del && !ed.modeSet {
			if old.Type == "commit" {
				return nil, res, withMessage(&api.FilePathConflictsWithSubmodulePathException{}, "The file cannot be added because the specified path is a submodule.")
			}
			return nil, res, withMessage(&api.FileNameConflictsWithDirectoryNameException{},
				"The file %s cannot be added because a folder with that name already exists.", p)
		}
		if (ed.del || ed.modeSet) && (!exists || old.Type != "blob") {
			return nil, res, fileDoesNotExist(p)
		}
		mode := old.Mode
		if ed.mode != "" {
			var ok bool
			if mode, ok = gitModes[ed.mode]; !ok {
				return nil, res, withMessage(&api.InvalidFileModeException{}, "The specified file mode permission is not valid.")
			}
		}
		if mode == "" {
			mode = git.ModeFile
		}
		switch {
		case ed.del:
			changes = append(changes, git.FileChange{Path: p, Delete: true})
			res.deleted = append(res.deleted, fileResult{path: p, blob: old.ID, mode: old.Mode})
			continue
		case ed.modeSet:
			changes = append(changes, git.FileChange{Path: p, Mode: mode, BlobID: old.ID})
			res.updated = append(res.updated, fileResult{path: p, blob: old.ID, mode: mode})
			continue
		}
		if err := checkParentFolders(ctx, entry, p); err != nil {
			return nil, res, err
		}
		content := ed.content
		if ed.source != nil {
			src, err := cleanPath(service.Deref(ed.source.FilePath))
			if err != nil {
				return nil, res, err
			}
			from, ok, err := entry(src)
			if err != nil || !ok || from.Type != "blob" {
				return nil, res, cmp.Or(err, fileDoesNotExist(src))
			}
			if content, err = readBlob(ctx, repo, from.ID); err != nil {
				return nil, res, err
			}
			if ed.mode == "" {
				mode = from.Mode
			}
			if service.Deref(ed.source.IsMove) {
				changes = append(changes, git.FileChange{Path: src, Delete: true})
				res.deleted = append(res.deleted, fileResult{path: src, blob: from.ID, mode: from.Mode})
			}
		}
		if len(content) > maxFileSize {
			return nil, res, withMessage(&api.FileContentSizeLimitExceededException{},
				"The file cannot be added because it is too large. The maximum file size is 6 MB, and the combined file content change size is 7 MB.")
		}
		blob, err := repo.WriteObject(ctx, content)
		if err != nil {
			return nil, res, err
		}
		if exists && blob == old.ID && mode == old.Mode && req.sameContentFails {
			return nil, res, withMessage(&api.SameFileContentException{},
				"The file could not be added because the provided file contents are exactly the same as the current file.")
		}
		changes = append(changes, git.FileChange{Path: p, Mode: mode, BlobID: blob})
		f := fileResult{path: p, blob: blob, mode: mode}
		if exists {
			res.updated = append(res.updated, f)
		} else {
			res.added = append(res.added, f)
		}
	}
	return changes, res, nil
}

// checkParentFolders refuses a file whose folders include a file or a
// submodule of the parent.
func checkParentFolders(ctx context.Context, entry func(string) (git.TreeEntry, bool, error), p string) error {
	for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
		e, ok, err := entry(dir)
		switch {
		case err != nil:
			return err
		case ok && e.Type == "commit":
			return withMessage(&api.FilePathConflictsWithSubmodulePathException{}, "The file cannot be added because the specified path is a submodule.")
		case ok && e.Type == "blob":
			return withMessage(&api.DirectoryNameConflictsWithFileNameException{},
				"The file %s cannot be added because %s is a file.", p, dir)
		}
	}
	return nil
}

// keepFolders rewrites commit so that the folders its deletions emptied
// remain, each with an empty keepFile.
func keepFolders(ctx context.Context, repo *git.Repo, commit string, nc git.NewCommit, deleted []fileResult) (string, error) {
	var keep []git.FileChange
	for _, d := range deleted {
		dir := path.Dir(d.path)
		if dir == "." {
			continue
		}
		if _, err := repo.Entry(ctx, commit, dir); errors.Is(err, git.ErrNotFound) {
			keep = append(keep, git.FileChange{Path: dir + "/" + keepFile, Mode: git.ModeFile, Content: []byte{}})
		}
	}
	if len(keep) == 0 {
		return commit, nil
	}
	nc.Changes = append(slices.Clone(nc.Changes), keep...)
	return repo.WriteCommit(ctx, nc)
}

package codecommit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/codecommit/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

// putFile commits one file on branch and returns the commit ID.
func putFile(t *testing.T, c *codecommit.Client, repo, branch, parent, path, content string) string {
	t.Helper()
	in := &codecommit.PutFileInput{RepositoryName: &repo, BranchName: &branch, FilePath: &path, FileContent: []byte(content),
		CommitMessage: aws.String("put " + path), Name: aws.String("Ada"), Email: aws.String("ada@example.com")}
	if parent != "" {
		in.ParentCommitId = &parent
	}
	return aws.ToString(awstest.Call(t, c.PutFile, in).CommitId)
}

func getFile(t *testing.T, c *codecommit.Client, repo, spec, path string) string {
	t.Helper()
	in := &codecommit.GetFileInput{RepositoryName: &repo, FilePath: &path}
	if spec != "" {
		in.CommitSpecifier = &spec
	}
	return string(awstest.Call(t, c.GetFile, in).FileContent)
}

func TestPutFileAndReadItBack(t *testing.T) {
	_, c := start(t)
	createRepository(t, c, "app")

	first := putFile(t, c, "app", "main", "", "README.md", "hello\n")
	meta := awstest.Call(t, c.GetRepository, &codecommit.GetRepositoryInput{RepositoryName: aws.String("app")}).RepositoryMetadata
	if aws.ToString(meta.DefaultBranch) != "main" {
		t.Errorf("default branch after the first commit: got %q, want main", aws.ToString(meta.DefaultBranch))
	}
	second := putFile(t, c, "app", "main", first, "src/run.sh", "#!/bin/sh\n")

	if got := getFile(t, c, "app", "", "README.md"); got != "hello\n" {
		t.Errorf("GetFile README.md at the default branch: got %q", got)
	}
	if got := getFile(t, c, "app", first, "/README.md"); got != "hello\n" {
		t.Errorf("GetFile /README.md at the first commit: got %q", got)
	}
	branch := awstest.Call(t, c.GetBranch, &codecommit.GetBranchInput{RepositoryName: aws.String("app"), BranchName: aws.String("main")}).Branch
	if aws.ToString(branch.CommitId) != second {
		t.Errorf("GetBranch: got %s, want %s", aws.ToString(branch.CommitId), second)
	}

	commit := awstest.Call(t, c.GetCommit, &codecommit.GetCommitInput{RepositoryName: aws.String("app"), CommitId: &second}).Commit
	if got := []string{aws.ToString(commit.Message), aws.ToString(commit.Author.Name), aws.ToString(commit.Author.Email), strings.Join(commit.Parents, ",")}; !cmp.Equal(got,
		[]string{"put src/run.sh", "Ada", "ada@example.com", first}) {
		t.Errorf("GetCommit: got message, author, email, parents %q", got)
	}

	folder := awstest.Call(t, c.GetFolder, &codecommit.GetFolderInput{RepositoryName: aws.String("app"), FolderPath: aws.String("/")})
	files := awstest.Strings(folder.Files, func(f types.File) *string { return f.AbsolutePath })
	folders := awstest.Strings(folder.SubFolders, func(f types.Folder) *string { return f.AbsolutePath })
	if !cmp.Equal(files, []string{"README.md"}) || !cmp.Equal(folders, []string{"src"}) {
		t.Errorf("GetFolder /: got files %v folders %v, want [README.md] [src]", files, folders)
	}
	sub := awstest.Call(t, c.GetFolder, &codecommit.GetFolderInput{RepositoryName: aws.String("app"), FolderPath: aws.String("src")})
	if len(sub.Files) != 1 || aws.ToString(sub.Files[0].AbsolutePath) != "src/run.sh" || aws.ToString(sub.Files[0].RelativePath) != "run.sh" {
		t.Errorf("GetFolder src: got %+v, want src/run.sh", sub.Files)
	}

	diff := awstest.Call(t, c.GetDifferences, &codecommit.GetDifferencesInput{RepositoryName: aws.String("app"),
		BeforeCommitSpecifier: &first, AfterCommitSpecifier: aws.String("main")})
	if len(diff.Differences) != 1 || diff.Differences[0].ChangeType != types.ChangeTypeEnumAdded ||
		aws.ToString(diff.Differences[0].AfterBlob.Path) != "src/run.sh" || diff.Differences[0].BeforeBlob != nil {
		t.Fatalf("GetDifferences: got %+v, want src/run.sh added", diff.Differences)
	}
	blob := awstest.Call(t, c.GetBlob, &codecommit.GetBlobInput{RepositoryName: aws.String("app"), BlobId: diff.Differences[0].AfterBlob.BlobId})
	if string(blob.Content) != "#!/bin/sh\n" {
		t.Errorf("GetBlob: got %q", blob.Content)
	}
	all := awstest.Call(t, c.GetDifferences, &codecommit.GetDifferencesInput{RepositoryName: aws.String("app"), AfterCommitSpecifier: &second})
	if len(all.Differences) != 2 {
		t.Errorf("GetDifferences from nothing: got %d differences, want 2", len(all.Differences))
	}
}

func TestCreateCommitPutsDeletesAndSetsModes(t *testing.T) {
	_, c := start(t)
	createRepository(t, c, "app")
	first := putFile(t, c, "app", "main", "", "a.txt", "a")
	second := putFile(t, c, "app", "main", putFile(t, c, "app", "main", first, "tool.sh", "echo"), "dir/b.txt", "b")

	out := awstest.Call(t, c.CreateCommit, &codecommit.CreateCommitInput{RepositoryName: aws.String("app"), BranchName: aws.String("main"),
		ParentCommitId: &second, AuthorName: aws.String("Bob"), CommitMessage: aws.String("several"), KeepEmptyFolders: true,
		PutFiles: []types.PutFileEntry{
			{FilePath: aws.String("c.txt"), FileContent: []byte("c")},
			{FilePath: aws.String("moved.txt"), SourceFile: &types.SourceFileSpecifier{FilePath: aws.String("a.txt"), IsMove: true}},
		},
		DeleteFiles:  []types.DeleteFileEntry{{FilePath: aws.String("dir/b.txt")}},
		SetFileModes: []types.SetFileModeEntry{{FilePath: aws.String("tool.sh"), FileMode: types.FileModeTypeEnumExecutable}},
	})
	paths := func(files []types.FileMetadata) []string {
		return awstest.Strings(files, func(f types.FileMetadata) *string { return f.AbsolutePath })
	}
	if diff := cmp.Diff([][]string{{"c.txt", "moved.txt"}, {"tool.sh"}, {"a.txt", "dir/b.txt"}},
		[][]string{paths(out.FilesAdded), paths(out.FilesUpdated), paths(out.FilesDeleted)}); diff != "" {
		t.Errorf("CreateCommit added, updated, deleted (-want +got):\n%s", diff)
	}
	if out.FilesUpdated[0].FileMode != types.FileModeTypeEnumExecutable {
		t.Errorf("tool.sh's mode: got %s, want EXECUTABLE", out.FilesUpdated[0].FileMode)
	}
	got := awstest.Call(t, c.GetFile, &codecommit.GetFileInput{RepositoryName: aws.String("app"), FilePath: aws.String("moved.txt")})
	if string(got.FileContent) != "a" {
		t.Errorf("moved.txt: got %q, want a.txt's content", got.FileContent)
	}
	folder := awstest.Call(t, c.GetFolder, &codecommit.GetFolderInput{RepositoryName: aws.String("app"), FolderPath: aws.String("dir")})
	if names := awstest.Strings(folder.Files, func(f types.File) *string { return f.RelativePath }); !cmp.Equal(names, []string{".gitkeep"}) {
		t.Errorf("dir with keepEmptyFolders: got files %v, want [.gitkeep]", names)
	}

	del := awstest.Call(t, c.DeleteFile, &codecommit.DeleteFileInput{RepositoryName: aws.String("app"), BranchName: aws.String("main"),
		ParentCommitId: out.CommitId, FilePath: aws.String("moved.txt")})
	if aws.ToString(del.FilePath) != "moved.txt" || aws.ToString(del.BlobId) != aws.ToString(out.FilesAdded[1].BlobId) {
		t.Errorf("DeleteFile: got path %s blob %s, want moved.txt's", aws.ToString(del.FilePath), aws.ToString(del.BlobId))
	}
}

func TestBranches(t *testing.T) {
	_, c := start(t)
	createRepository(t, c, "app")
	first := putFile(t, c, "app", "main", "", "a.txt", "a")
	for _, name := range []string{"feature/x", "dev"} {
		awstest.Call(t, c.CreateBranch, &codecommit.CreateBranchInput{RepositoryName: aws.String("app"), BranchName: &name, CommitId: &first})
	}
	list := awstest.Call(t, c.ListBranches, &codecommit.ListBranchesInput{RepositoryName: aws.String("app")})
	if diff := cmp.Diff([]string{"dev", "feature/x", "main"}, list.Branches); diff != "" {
		t.Errorf("ListBranches (-want +got):\n%s", diff)
	}
	awstest.Call(t, c.UpdateDefaultBranch, &codecommit.UpdateDefaultBranchInput{RepositoryName: aws.String("app"), DefaultBranchName: aws.String("dev")})
	meta := awstest.Call(t, c.GetRepository, &codecommit.GetRepositoryInput{RepositoryName: aws.String("app")}).RepositoryMetadata
	if aws.ToString(meta.DefaultBranch) != "dev" {
		t.Errorf("default branch: got %q, want dev", aws.ToString(meta.DefaultBranch))
	}
	deleted := awstest.Call(t, c.DeleteBranch, &codecommit.DeleteBranchInput{RepositoryName: aws.String("app"), BranchName: aws.String("main")})
	if aws.ToString(deleted.DeletedBranch.CommitId) != first {
		t.Errorf("DeleteBranch: got %+v, want main at %s", deleted.DeletedBranch, first)
	}
}

func TestFileErrors(t *testing.T) {
	_, c := start(t)
	createRepository(t, c, "app")
	first := putFile(t, c, "app", "main", "", "a.txt", "a")
	put := func(in codecommit.PutFileInput) *codecommit.PutFileInput {
		in.RepositoryName, in.BranchName = aws.String("app"), cmpOr(in.BranchName, "main")
		if in.FilePath == nil {
			in.FilePath = aws.String("b.txt")
		}
		if in.FileContent == nil {
			in.FileContent = []byte("b")
		}
		return &in
	}
	tooMany := make([]types.PutFileEntry, 101)
	for i := range tooMany {
		tooMany[i] = types.PutFileEntry{FilePath: aws.String(strings.Repeat("f", i+1)), FileContent: []byte("x")}
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "put without a parent on an existing branch", Call: awstest.Fails(c.PutFile, put(codecommit.PutFileInput{})),
			Want: awstest.BadRequest("ParentCommitIdRequiredException", "")},
		{Name: "put on an outdated parent", Call: awstest.Fails(c.PutFile, put(codecommit.PutFileInput{ParentCommitId: aws.String(strings.Repeat("0", 40))})),
			Want: awstest.BadRequest("ParentCommitDoesNotExistException", "")},
		{Name: "put with an invalid parent", Call: awstest.Fails(c.PutFile, put(codecommit.PutFileInput{ParentCommitId: aws.String("abc")})),
			Want: awstest.BadRequest("InvalidParentCommitIdException", "")},
		{Name: "put the same content", Call: awstest.Fails(c.PutFile, put(codecommit.PutFileInput{ParentCommitId: &first, FilePath: aws.String("a.txt"), FileContent: []byte("a")})),
			Want: awstest.BadRequest("SameFileContentException", "")},
		{Name: "put an empty file", Call: awstest.Fails(c.PutFile, put(codecommit.PutFileInput{ParentCommitId: &first, FileContent: []byte{}})),
			Want: awstest.BadRequest("FileContentRequiredException", "")},
		{Name: "put too large", Call: awstest.Fails(c.PutFile, put(codecommit.PutFileInput{ParentCommitId: &first, FileContent: make([]byte, 6<<20+1)})),
			Want: awstest.BadRequest("FileContentSizeLimitExceededException", "")},
		{Name: "put under a file", Call: awstest.Fails(c.PutFile, put(codecommit.PutFileInput{ParentCommitId: &first, FilePath: aws.String("a.txt/b")})),
			Want: awstest.BadRequest("DirectoryNameConflictsWithFileNameException", "")},
		{Name: "put outside the repository", Call: awstest.Fails(c.PutFile, put(codecommit.PutFileInput{ParentCommitId: &first, FilePath: aws.String("../x")})),
			Want: awstest.BadRequest("InvalidPathException", "")},
		{Name: "put with a bad branch name", Call: awstest.Fails(c.PutFile, put(codecommit.PutFileInput{BranchName: aws.String("a..b")})),
			Want: awstest.BadRequest("InvalidBranchNameException", "")},
		{Name: "put on a missing branch", Call: awstest.Fails(c.PutFile, put(codecommit.PutFileInput{BranchName: aws.String("nope")})),
			Want: awstest.BadRequest("BranchDoesNotExistException", "")},
		{Name: "put a bad mode", Call: awstest.Fails(c.PutFile, put(codecommit.PutFileInput{ParentCommitId: &first, FileMode: "WEIRD"})),
			Want: awstest.BadRequest("InvalidFileModeException", "")},
		{Name: "delete a missing file", Call: awstest.Fails(c.DeleteFile, &codecommit.DeleteFileInput{RepositoryName: aws.String("app"),
			BranchName: aws.String("main"), ParentCommitId: &first, FilePath: aws.String("nope.txt")}),
			Want: awstest.BadRequest("FileDoesNotExistException", "")},
		{Name: "commit too many files", Call: awstest.Fails(c.CreateCommit, &codecommit.CreateCommitInput{RepositoryName: aws.String("app"),
			BranchName: aws.String("main"), ParentCommitId: &first, PutFiles: tooMany}),
			Want: awstest.BadRequest("MaximumFileEntriesExceededException", "")},
		{Name: "commit nothing", Call: awstest.Fails(c.CreateCommit, &codecommit.CreateCommitInput{RepositoryName: aws.String("app"),
			BranchName: aws.String("main"), ParentCommitId: &first}),
			Want: awstest.BadRequest("FileEntryRequiredException", "")},
		{Name: "commit the same path twice", Call: awstest.Fails(c.CreateCommit, &codecommit.CreateCommitInput{RepositoryName: aws.String("app"),
			BranchName: aws.String("main"), ParentCommitId: &first, PutFiles: []types.PutFileEntry{{FilePath: aws.String("x"), FileContent: []byte("1")}},
			DeleteFiles: []types.DeleteFileEntry{{FilePath: aws.String("x")}}}),
			Want: awstest.BadRequest("SamePathRequestException", "")},
		{Name: "commit no change", Call: awstest.Fails(c.CreateCommit, &codecommit.CreateCommitInput{RepositoryName: aws.String("app"),
			BranchName: aws.String("main"), ParentCommitId: &first, PutFiles: []types.PutFileEntry{{FilePath: aws.String("a.txt"), FileContent: []byte("a")}}}),
			Want: awstest.BadRequest("NoChangeException", "")},
		{Name: "get a missing file", Call: awstest.Fails(c.GetFile, &codecommit.GetFileInput{RepositoryName: aws.String("app"), FilePath: aws.String("nope")}),
			Want: awstest.BadRequest("FileDoesNotExistException", "")},
		{Name: "get a file at a missing commit", Call: awstest.Fails(c.GetFile, &codecommit.GetFileInput{RepositoryName: aws.String("app"),
			FilePath: aws.String("a.txt"), CommitSpecifier: aws.String("nope")}),
			Want: awstest.BadRequest("CommitDoesNotExistException", "")},
		{Name: "get a missing folder", Call: awstest.Fails(c.GetFolder, &codecommit.GetFolderInput{RepositoryName: aws.String("app"), FolderPath: aws.String("nope")}),
			Want: awstest.BadRequest("FolderDoesNotExistException", "")},
		{Name: "get a missing commit", Call: awstest.Fails(c.GetCommit, &codecommit.GetCommitInput{RepositoryName: aws.String("app"), CommitId: aws.String(strings.Repeat("1", 40))}),
			Want: awstest.BadRequest("CommitIdDoesNotExistException", "")},
		{Name: "get a missing blob", Call: awstest.Fails(c.GetBlob, &codecommit.GetBlobInput{RepositoryName: aws.String("app"), BlobId: aws.String(strings.Repeat("1", 40))}),
			Want: awstest.BadRequest("BlobIdDoesNotExistException", "")},
		{Name: "get a missing branch", Call: awstest.Fails(c.GetBranch, &codecommit.GetBranchInput{RepositoryName: aws.String("app"), BranchName: aws.String("nope")}),
			Want: awstest.BadRequest("BranchDoesNotExistException", "")},
		{Name: "create an existing branch", Call: awstest.Fails(c.CreateBranch, &codecommit.CreateBranchInput{RepositoryName: aws.String("app"),
			BranchName: aws.String("main"), CommitId: &first}),
			Want: awstest.BadRequest("BranchNameExistsException", "")},
		{Name: "delete the default branch", Call: awstest.Fails(c.DeleteBranch, &codecommit.DeleteBranchInput{RepositoryName: aws.String("app"), BranchName: aws.String("main")}),
			Want: awstest.BadRequest("DefaultBranchCannotBeDeletedException", "")},
		{Name: "default to a missing branch", Call: awstest.Fails(c.UpdateDefaultBranch, &codecommit.UpdateDefaultBranchInput{RepositoryName: aws.String("app"),
			DefaultBranchName: aws.String("nope")}),
			Want: awstest.BadRequest("BranchDoesNotExistException", "")},
	})
}

func cmpOr(s *string, def string) *string {
	if aws.ToString(s) == "" {
		return &def
	}
	return s
}

// TestConcurrentCommitsOnOneParent: of writers racing from the same
// parent, one moves the branch and the others are told their parent is
// outdated; none is lost silently.
func TestConcurrentCommitsOnOneParent(t *testing.T) {
	_, c := start(t)
	createRepository(t, c, "app")
	first := putFile(t, c, "app", "main", "", "a.txt", "a")
	errs := make([]error, 6)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = c.PutFile(context.Background(), &codecommit.PutFileInput{RepositoryName: aws.String("app"), BranchName: aws.String("main"),
				ParentCommitId: &first, FilePath: aws.String(fmt.Sprintf("f%d", i)), FileContent: []byte("x")})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		awstest.WantAPIError(t, err, awstest.BadRequest("ParentCommitIdOutdatedException", ""))
	}
	if won != 1 {
		t.Errorf("PutFiles that won: got %d, want 1", won)
	}
}

// TestRepositoriesSurviveARestart: metadata and git data are on disk.
func TestRepositoriesSurviveARestart(t *testing.T) {
	srv, c := start(t)
	created := createRepository(t, c, "app")
	commit := putFile(t, c, "app", "main", "", "a.txt", "kept")
	srv.Restart(t)
	c = codecommit.NewFromConfig(srv.Config())
	got := awstest.Call(t, c.GetRepository, &codecommit.GetRepositoryInput{RepositoryName: aws.String("app")}).RepositoryMetadata
	if aws.ToString(got.RepositoryId) != aws.ToString(created.RepositoryId) || aws.ToString(got.DefaultBranch) != "main" {
		t.Errorf("after a restart: got id %s default branch %q, want %s and main", aws.ToString(got.RepositoryId),
			aws.ToString(got.DefaultBranch), aws.ToString(created.RepositoryId))
	}
	if content := getFile(t, c, "app", commit, "a.txt"); content != "kept" {
		t.Errorf("a.txt after a restart: got %q, want kept", content)
	}
}

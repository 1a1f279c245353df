package codecommit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/codecommit/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

// start runs overcast for the test and returns a CodeCommit client of it.
func start(t *testing.T, opts ...awstest.Option) (*awstest.Server, *codecommit.Client) {
	t.Helper()
	srv := awstest.Start(t, opts...)
	return srv, codecommit.NewFromConfig(srv.Config())
}

func createRepository(t *testing.T, c *codecommit.Client, name string) types.RepositoryMetadata {
	t.Helper()
	return *awstest.Call(t, c.CreateRepository, &codecommit.CreateRepositoryInput{RepositoryName: &name}).RepositoryMetadata
}

func TestRepositoryLifecycle(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	srv, c := start(t, awstest.Clock(clock.NewFake(now)))

	created := awstest.Call(t, c.CreateRepository, &codecommit.CreateRepositoryInput{RepositoryName: aws.String("app"),
		RepositoryDescription: aws.String("the app"), Tags: map[string]string{"team": "web"}}).RepositoryMetadata
	want := types.RepositoryMetadata{
		AccountId:             aws.String("000000000000"),
		RepositoryId:          created.RepositoryId,
		RepositoryName:        aws.String("app"),
		RepositoryDescription: aws.String("the app"),
		LastModifiedDate:      &now,
		CreationDate:          &now,
		CloneUrlHttp:          aws.String(srv.URL + "/v1/repos/app"),
		CloneUrlSsh:           aws.String("ssh://127.0.0.1/v1/repos/app"),
		Arn:                   aws.String("arn:aws:codecommit:us-east-1:000000000000:app"),
	}
	opts := cmp.Options{cmp.AllowUnexported(types.RepositoryMetadata{}), cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })}
	if diff := cmp.Diff(want, *created, opts); diff != "" {
		t.Errorf("CreateRepository (-want +got):\n%s", diff)
	}
	if len(aws.ToString(created.RepositoryId)) != 36 {
		t.Errorf("repository ID: got %q, want a UUID", aws.ToString(created.RepositoryId))
	}
	got := awstest.Call(t, c.GetRepository, &codecommit.GetRepositoryInput{RepositoryName: aws.String("app")}).RepositoryMetadata
	if diff := cmp.Diff(want, *got, opts); diff != "" {
		t.Errorf("GetRepository (-want +got):\n%s", diff)
	}

	awstest.Call(t, c.UpdateRepositoryDescription, &codecommit.UpdateRepositoryDescriptionInput{RepositoryName: aws.String("app"),
		RepositoryDescription: aws.String("renamed soon")})
	awstest.Call(t, c.UpdateRepositoryName, &codecommit.UpdateRepositoryNameInput{OldName: aws.String("app"), NewName: aws.String("web")})
	renamed := awstest.Call(t, c.GetRepository, &codecommit.GetRepositoryInput{RepositoryName: aws.String("web")}).RepositoryMetadata
	if aws.ToString(renamed.RepositoryId) != aws.ToString(created.RepositoryId) || aws.ToString(renamed.RepositoryDescription) != "renamed soon" ||
		aws.ToString(renamed.CloneUrlHttp) != srv.URL+"/v1/repos/web" {
		t.Errorf("after rename: got id %s description %q clone URL %s, want the same id, the new description and name",
			aws.ToString(renamed.RepositoryId), aws.ToString(renamed.RepositoryDescription), aws.ToString(renamed.CloneUrlHttp))
	}

	batch := awstest.Call(t, c.BatchGetRepositories, &codecommit.BatchGetRepositoriesInput{RepositoryNames: []string{"web", "app"}})
	if names := awstest.Strings(batch.Repositories, func(r types.RepositoryMetadata) *string { return r.RepositoryName }); !cmp.Equal(names, []string{"web"}) ||
		!cmp.Equal(batch.RepositoriesNotFound, []string{"app"}) {
		t.Errorf("BatchGetRepositories: got %v and not found %v, want [web] and [app]", names, batch.RepositoriesNotFound)
	}

	deleted := awstest.Call(t, c.DeleteRepository, &codecommit.DeleteRepositoryInput{RepositoryName: aws.String("web")})
	if aws.ToString(deleted.RepositoryId) != aws.ToString(created.RepositoryId) {
		t.Errorf("DeleteRepository: got id %q, want %q", aws.ToString(deleted.RepositoryId), aws.ToString(created.RepositoryId))
	}
	again := awstest.Call(t, c.DeleteRepository, &codecommit.DeleteRepositoryInput{RepositoryName: aws.String("web")})
	if again.RepositoryId != nil {
		t.Errorf("DeleteRepository of a missing repository: got id %q, want none", aws.ToString(again.RepositoryId))
	}
}

func TestListRepositoriesSortsAndPages(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	_, c := start(t, awstest.Clock(fake))
	for _, name := range []string{"b", "c", "a"} {
		createRepository(t, c, name)
		fake.Advance(time.Minute)
	}
	tests := []struct {
		sortBy types.SortByEnum
		order  types.OrderEnum
		want   []string
	}{
		{"", "", []string{"a", "b", "c"}},
		{types.SortByEnumRepositoryName, types.OrderEnumDescending, []string{"c", "b", "a"}},
		{types.SortByEnumModifiedDate, types.OrderEnumAscending, []string{"b", "c", "a"}},
		{types.SortByEnumModifiedDate, types.OrderEnumDescending, []string{"a", "c", "b"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.sortBy)+"-"+string(tt.order), func(t *testing.T) {
			out := awstest.Call(t, c.ListRepositories, &codecommit.ListRepositoriesInput{SortBy: tt.sortBy, Order: tt.order})
			got := awstest.Strings(out.Repositories, func(r types.RepositoryNameIdPair) *string { return r.RepositoryName })
			if diff := cmp.Diff(tt.want, got); diff != "" || out.NextToken != nil {
				t.Errorf("ListRepositories (-want +got):\n%s next token %v", diff, out.NextToken)
			}
		})
	}
}

func TestRepositoryErrors(t *testing.T) {
	_, c := start(t)
	createRepository(t, c, "taken")
	createRepository(t, c, "other")
	bad := awstest.BadRequest("InvalidRepositoryNameException", "The repository name is not valid.")
	missing := awstest.BadRequest("RepositoryDoesNotExistException", "nope does not exist")
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "create with a space", Call: awstest.Fails(c.CreateRepository, &codecommit.CreateRepositoryInput{RepositoryName: aws.String("a b")}), Want: bad},
		{Name: "create ending in .git", Call: awstest.Fails(c.CreateRepository, &codecommit.CreateRepositoryInput{RepositoryName: aws.String("a.git")}), Want: bad},
		{Name: "create too long", Call: awstest.Fails(c.CreateRepository, &codecommit.CreateRepositoryInput{RepositoryName: aws.String(strings.Repeat("a", 101))}), Want: bad},
		{Name: "create taken", Call: awstest.Fails(c.CreateRepository, &codecommit.CreateRepositoryInput{RepositoryName: aws.String("taken")}),
			Want: awstest.BadRequest("RepositoryNameExistsException", "Repository named taken already exists")},
		{Name: "description too long", Call: awstest.Fails(c.CreateRepository, &codecommit.CreateRepositoryInput{RepositoryName: aws.String("d"),
			RepositoryDescription: aws.String(strings.Repeat("d", 1001))}), Want: awstest.BadRequest("InvalidRepositoryDescriptionException", "")},
		{Name: "reserved tag", Call: awstest.Fails(c.CreateRepository, &codecommit.CreateRepositoryInput{RepositoryName: aws.String("t"),
			Tags: map[string]string{"aws:x": "y"}}), Want: awstest.BadRequest("InvalidSystemTagUsageException", "")},
		{Name: "get missing", Call: awstest.Fails(c.GetRepository, &codecommit.GetRepositoryInput{RepositoryName: aws.String("nope")}), Want: missing},
		{Name: "rename missing", Call: awstest.Fails(c.UpdateRepositoryName, &codecommit.UpdateRepositoryNameInput{OldName: aws.String("nope"), NewName: aws.String("x")}), Want: missing},
		{Name: "rename onto taken", Call: awstest.Fails(c.UpdateRepositoryName, &codecommit.UpdateRepositoryNameInput{OldName: aws.String("other"), NewName: aws.String("taken")}),
			Want: awstest.BadRequest("RepositoryNameExistsException", "")},
		{Name: "describe missing", Call: awstest.Fails(c.UpdateRepositoryDescription, &codecommit.UpdateRepositoryDescriptionInput{RepositoryName: aws.String("nope")}), Want: missing},
		{Name: "list bad sort", Call: awstest.Fails(c.ListRepositories, &codecommit.ListRepositoriesInput{SortBy: "size"}), Want: awstest.BadRequest("InvalidSortByException", "")},
		{Name: "list bad order", Call: awstest.Fails(c.ListRepositories, &codecommit.ListRepositoriesInput{Order: "up"}), Want: awstest.BadRequest("InvalidOrderException", "")},
		{Name: "list bad token", Call: awstest.Fails(c.ListRepositories, &codecommit.ListRepositoriesInput{NextToken: aws.String("x")}),
			Want: awstest.BadRequest("InvalidContinuationTokenException", "")},
		{Name: "batch too many", Call: awstest.Fails(c.BatchGetRepositories, &codecommit.BatchGetRepositoriesInput{RepositoryNames: strings.Split(strings.Repeat("r,", 25)+"r", ",")}),
			Want: awstest.BadRequest("MaximumRepositoryNamesExceededException", "")},
	})
}

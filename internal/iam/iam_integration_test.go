package iam_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/service"
)

const (
	account   = "000000000000"
	trustECS  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	readS3    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`
	adminARN  = "arn:aws:iam::aws:policy/AdministratorAccess"
	s3ReadARN = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
)

func start(t *testing.T) (*iam.Client, *awstest.Server) {
	t.Helper()
	srv := awstest.Start(t)
	return iam.NewFromConfig(srv.Config()), srv
}

// wantAPIError fails unless err is the AWS error code with HTTP status.
func wantAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want %s (%d)", err, code, status)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("got %s: %s, want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("%s: got HTTP status %v, want %d", code, err, status)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func decode(t *testing.T, doc *string) string {
	t.Helper()
	if doc == nil {
		t.Fatal("got no policy document")
	}
	s, err := url.QueryUnescape(*doc)
	if err != nil {
		t.Fatalf("document %q is not URL-encoded: %v", *doc, err)
	}
	return s
}

var idPattern = regexp.MustCompile(`^A[A-Z]{3}[A-Z0-9]{17}$`)

func TestUsers(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()

	created := must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("Alice"),
		Path: aws.String("/eng/"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}}))
	u := created.User
	if u.CreateDate == nil || u.CreateDate.Nanosecond() != 0 {
		t.Errorf("CreateDate: got %v, want whole seconds", u.CreateDate)
	}

	_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad name")})
	wantAPIError(t, err, "ValidationError", 400)
	if want := `1 validation error detected: Value 'bad name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`; !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want message %q", err, want)
	}
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("p"), Path: aws.String("nopath")})
	wantAPIError(t, err, "ValidationError", 400)

	got := must[*iam.GetUserOutput](t)(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("ALICE")}))
	if aws.ToString(got.User.UserName) != "Alice" || len(got.User.Tags) != 1 {
		t.Errorf("GetUser by another case: got %+v, want Alice with her tag", got.User)
	}

	// Rename and move; the path index follows.
	must[*iam.UpdateUserOutput](t)(c.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("alice"),
		NewUserName: aws.String("Alicia"), NewPath: aws.String("/ops/")}))
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}))
	_, err = c.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("bob"), NewUserName: aws.String("ALICIA")})
	wantAPIError(t, err, "EntityAlreadyExists", 409)
	list := must[*iam.ListUsersOutput](t)(c.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/ops")}))
	if len(list.Users) != 1 || aws.ToString(list.Users[0].Arn) != "arn:aws:iam::000000000000:user/ops/Alicia" {
		t.Errorf("ListUsers /ops: got %+v, want Alicia", list.Users)
	}
	if list := must[*iam.ListUsersOutput](t)(c.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/eng/")})); len(list.Users) != 0 {
		t.Errorf("ListUsers /eng/ after the move: got %d users, want 0", len(list.Users))
	}
	if list := must[*iam.ListUsersOutput](t)(c.ListUsers(ctx, &iam.ListUsersInput{})); len(list.Users) != 2 || list.IsTruncated {
		t.Errorf("ListUsers: got %d users (truncated %v), want 2", len(list.Users), list.IsTruncated)
	}

	must[*iam.DeleteUserOutput](t)(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alicia")}))
}

func TestListUsersPagination(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("user%d", i)
		want = append(want, name)
		must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}))
	}
	var got []string
	pages := 0
	p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		out := must[*iam.ListUsersOutput](t)(p.NextPage(ctx))
		pages++
		if len(out.Users) > 2 {
			t.Errorf("page %d: got %d users, want at most 2", pages, len(out.Users))
		}
		for _, u := range out.Users {
			got = append(got, aws.ToString(u.UserName))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("got %d pages, want 3", pages)
	}
	_, err := c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(1001)})
	wantAPIError(t, err, "ValidationError", 400)
}

func TestGetUserAsRoot(t *testing.T) {
	c, _ := start(t)
	out := must[*iam.GetUserOutput](t)(c.GetUser(context.Background(), &iam.GetUserInput{}))
	if got, want := aws.ToString(out.User.Arn), "arn:aws:iam::000000000000:root"; got != want {
		t.Errorf("Arn: got %q, want %q", got, want)
	}
	if got := aws.ToString(out.User.UserId); got != account {
		t.Errorf("UserId: got %q, want the account ID", got)
	}
	if out.User.UserName != nil || out.User.CreateDate == nil {
		t.Errorf("got UserName %v and CreateDate %v, want no name and a date", out.User.UserName, out.User.CreateDate)
	}
}

func TestAccessKeys(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ci")}))
	var ids []string
	for range 2 {
		k := must[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ci")}))
		if !regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`).MatchString(aws.ToString(k.AccessKey.AccessKeyId)) {
			t.Errorf("AccessKeyId: got %q", aws.ToString(k.AccessKey.AccessKeyId))
		}
		if n := len(aws.ToString(k.AccessKey.SecretAccessKey)); n != 40 {
			t.Errorf("SecretAccessKey: got %d characters, want 40", n)
		}
		if k.AccessKey.Status != types.StatusTypeActive || aws.ToString(k.AccessKey.UserName) != "ci" {
			t.Errorf("got %+v, want an active key of ci", k.AccessKey)
		}
		ids = append(ids, aws.ToString(k.AccessKey.AccessKeyId))
	}
	_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ci")})
	var limit *types.LimitExceededException
	if !errors.As(err, &limit) {
		t.Fatalf("third key: got %v, want LimitExceeded", err)
	}
	wantAPIError(t, err, "LimitExceeded", 409)

	list := must[*iam.ListAccessKeysOutput](t)(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("ci")}))
	var listed []string
	for _, m := range list.AccessKeyMetadata {
		listed = append(listed, aws.ToString(m.AccessKeyId))
	}
	slices.Sort(listed)
	slices.Sort(ids)
	if diff := cmp.Diff(ids, listed); diff != "" {
		t.Errorf("ListAccessKeys (-want +got):\n%s", diff)
	}

	must[*iam.UpdateAccessKeyOutput](t)(c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("ci"),
		AccessKeyId: aws.String(ids[0]), Status: types.StatusTypeInactive}))
	list = must[*iam.ListAccessKeysOutput](t)(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("ci")}))
	for _, m := range list.AccessKeyMetadata {
		if want := map[bool]types.StatusType{true: types.StatusTypeInactive, false: types.StatusTypeActive}[aws.ToString(m.AccessKeyId) == ids[0]]; m.Status != want {
			t.Errorf("key %s: got %s, want %s", aws.ToString(m.AccessKeyId), m.Status, want)
		}
	}
	_, err = c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: aws.String(ids[0]), Status: "Sleeping"})
	wantAPIError(t, err, "ValidationError", 400)

	last := must[*iam.GetAccessKeyLastUsedOutput](t)(c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(ids[1])}))
	if aws.ToString(last.UserName) != "ci" || aws.ToString(last.AccessKeyLastUsed.ServiceName) != "N/A" ||
		aws.ToString(last.AccessKeyLastUsed.Region) != "N/A" || last.AccessKeyLastUsed.LastUsedDate != nil {
		t.Errorf("GetAccessKeyLastUsed of an unused key: got %+v %+v", last, last.AccessKeyLastUsed)
	}

	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("ci")})
	var conflict *types.DeleteConflictException
	if !errors.As(err, &conflict) || !strings.Contains(err.Error(), "must delete access keys first") {
		t.Fatalf("DeleteUser with keys: got %v, want DeleteConflict", err)
	}
	wantAPIError(t, err, "DeleteConflict", 409)

	for _, id := range ids {
		must[*iam.DeleteAccessKeyOutput](t)(c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: aws.String(id)}))
	}
	_, err = c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: aws.String(ids[0])})
	wantAPIError(t, err, "NoSuchEntity", 404)
	must[*iam.DeleteUserOutput](t)(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("ci")}))
}

// TestAccessKeySignsRequests uses a key IAM issued: it authenticates as its
// user until it is deactivated.
func TestAccessKeySignsRequests(t *testing.T) {
	c, srv := start(t)
	ctx := context.Background()
	user := must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("deployer"), Path: aws.String("/ci/")}))
	key := must[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("deployer")}))
	id, secret := aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
	asUser := iam.NewFromConfig(srv.ConfigWith(id, secret, ""))

	me := must[*iam.GetUserOutput](t)(asUser.GetUser(ctx, &iam.GetUserInput{}))
	if diff := cmp.Diff(aws.ToString(user.User.Arn), aws.ToString(me.User.Arn)); diff != "" || aws.ToString(me.User.UserName) != "deployer" {
		t.Errorf("GetUser with the user's key: got %+v, want deployer (%s)", me.User, diff)
	}
	who := must[*sts.GetCallerIdentityOutput](t)(sts.NewFromConfig(srv.ConfigWith(id, secret, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if aws.ToString(who.Arn) != "arn:aws:iam::000000000000:user/ci/deployer" || aws.ToString(who.UserId) != aws.ToString(user.User.UserId) {
		t.Errorf("GetCallerIdentity: got %s %s", aws.ToString(who.Arn), aws.ToString(who.UserId))
	}
	// The user's own keys, without naming the user.
	own := must[*iam.ListAccessKeysOutput](t)(asUser.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}))
	if len(own.AccessKeyMetadata) != 1 || aws.ToString(own.AccessKeyMetadata[0].UserName) != "deployer" {
		t.Errorf("ListAccessKeys as the user: got %+v", own.AccessKeyMetadata)
	}

	// A wrong secret does not pass.
	_, err := iam.NewFromConfig(srv.ConfigWith(id, strings.Repeat("x", 40), "")).GetUser(ctx, &iam.GetUserInput{})
	wantAPIError(t, err, "SignatureDoesNotMatch", 403)

	must[*iam.UpdateAccessKeyOutput](t)(c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("deployer"),
		AccessKeyId: aws.String(id), Status: types.StatusTypeInactive}))
	_, err = asUser.GetUser(ctx, &iam.GetUserInput{})
	wantAPIError(t, err, "InvalidClientTokenId", 403)

	must[*iam.UpdateAccessKeyOutput](t)(c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("deployer"),
		AccessKeyId: aws.String(id), Status: types.StatusTypeActive}))
	must[*iam.GetUserOutput](t)(asUser.GetUser(ctx, &iam.GetUserInput{}))

	// Renaming the user carries the key along.
	must[*iam.UpdateUserOutput](t)(c.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("deployer"), NewUserName: aws.String("releaser")}))
	me = must[*iam.GetUserOutput](t)(asUser.GetUser(ctx, &iam.GetUserInput{}))
	if got := aws.ToString(me.User.Arn); got != "arn:aws:iam::000000000000:user/ci/releaser" {
		t.Errorf("after rename: got %q", got)
	}
}

func TestGroups(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs"), Path: aws.String("/eng/")}))
	for _, u := range []string{"ann", "ben", "cat"} {
		must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}))
		must[*iam.AddUserToGroupOutput](t)(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String(u)}))
	}
	_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("nobody")})
	wantAPIError(t, err, "NoSuchEntity", 404)

	var members []string
	p := iam.NewGetGroupPaginator(c, &iam.GetGroupInput{GroupName: aws.String("devs"), MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		out := must[*iam.GetGroupOutput](t)(p.NextPage(ctx))
		if aws.ToString(out.Group.GroupName) != "devs" {
			t.Errorf("GetGroup: got group %+v", out.Group)
		}
		for _, u := range out.Users {
			members = append(members, aws.ToString(u.UserName))
		}
	}
	if diff := cmp.Diff([]string{"ann", "ben", "cat"}, members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}

	must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}))
	must[*iam.AddUserToGroupOutput](t)(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("ann")}))
	forAnn := must[*iam.ListGroupsForUserOutput](t)(c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("ann")}))
	if got := groupNames(forAnn.Groups); !cmp.Equal(got, []string{"devs", "ops"}) {
		t.Errorf("ListGroupsForUser: got %v, want [devs ops]", got)
	}
	all := must[*iam.ListGroupsOutput](t)(c.ListGroups(ctx, &iam.ListGroupsInput{PathPrefix: aws.String("/eng/")}))
	if got := groupNames(all.Groups); !cmp.Equal(got, []string{"devs"}) {
		t.Errorf("ListGroups /eng/: got %v", got)
	}

	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("ann")})
	wantAPIError(t, err, "DeleteConflict", 409)
	_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("devs")})
	wantAPIError(t, err, "DeleteConflict", 409)

	// Renaming a group keeps its members.
	must[*iam.UpdateGroupOutput](t)(c.UpdateGroup(ctx, &iam.UpdateGroupInput{GroupName: aws.String("devs"), NewGroupName: aws.String("builders")}))
	out := must[*iam.GetGroupOutput](t)(c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("builders")}))
	if len(out.Users) != 3 || aws.ToString(out.Group.Arn) != "arn:aws:iam::000000000000:group/eng/builders" {
		t.Errorf("after rename: got %+v with %d users", out.Group, len(out.Users))
	}
	forAnn = must[*iam.ListGroupsForUserOutput](t)(c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("ann")}))
	if got := groupNames(forAnn.Groups); !cmp.Equal(got, []string{"builders", "ops"}) {
		t.Errorf("ListGroupsForUser after rename: got %v", got)
	}
	_, err = c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("devs")})
	wantAPIError(t, err, "NoSuchEntity", 404)

	for _, u := range []string{"ann", "ben", "cat"} {
		must[*iam.RemoveUserFromGroupOutput](t)(c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("builders"), UserName: aws.String(u)}))
	}
	_, err = c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("builders"), UserName: aws.String("ann")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	must[*iam.DeleteGroupOutput](t)(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("builders")}))
}

func groupNames(gs []types.Group) []string {
	return service.Map(gs, func(g types.Group) string { return aws.ToString(g.GroupName) })
}

func TestRoles(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	out := must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("task"),
		Path: aws.String("/ecs/"), AssumeRolePolicyDocument: aws.String(trustECS), Description: aws.String("runs tasks")}))
	r := out.Role
	if aws.ToInt32(r.MaxSessionDuration) != 3600 {
		t.Errorf("CreateRole: got %+v", r)
	}
	if got := decode(t, r.AssumeRolePolicyDocument); got != trustECS {
		t.Errorf("trust policy: got %q, want %q", got, trustECS)
	}

	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(readS3)})
	var malformed *types.MalformedPolicyDocumentException
	if !errors.As(err, &malformed) {
		t.Fatalf("identity policy as trust policy: got %v, want MalformedPolicyDocument", err)
	}
	wantAPIError(t, err, "MalformedPolicyDocument", 400)
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String("{not json")})
	wantAPIError(t, err, "MalformedPolicyDocument", 400)
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(strings.Repeat("r", 65)), AssumeRolePolicyDocument: aws.String(trustECS)})
	wantAPIError(t, err, "ValidationError", 400)
	big := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("x", 2048) + `","Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("big"), AssumeRolePolicyDocument: aws.String(big)})
	wantAPIError(t, err, "LimitExceeded", 409)

	got := must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Task")}))
	if aws.ToString(got.Role.Description) != "runs tasks" || got.Role.RoleLastUsed == nil {
		t.Errorf("GetRole: got %+v", got.Role)
	}

	_, err = c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("task"), MaxSessionDuration: aws.Int32(100)})
	wantAPIError(t, err, "ValidationError", 400)
	must[*iam.UpdateRoleOutput](t)(c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("task"), MaxSessionDuration: aws.Int32(43200)}))
	desc := must[*iam.UpdateRoleDescriptionOutput](t)(c.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: aws.String("task"), Description: aws.String("new")}))
	if aws.ToString(desc.Role.Description) != "new" || aws.ToInt32(desc.Role.MaxSessionDuration) != 43200 {
		t.Errorf("UpdateRoleDescription: got %+v", desc.Role)
	}
	trustAccount := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`
	must[*iam.UpdateAssumeRolePolicyOutput](t)(c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("task"), PolicyDocument: aws.String(trustAccount)}))
	_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("task"), PolicyDocument: aws.String(readS3)})
	wantAPIError(t, err, "MalformedPolicyDocument", 400)
	got = must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("task")}))
	if decode(t, got.Role.AssumeRolePolicyDocument) != trustAccount {
		t.Errorf("after UpdateAssumeRolePolicy: got %s", decode(t, got.Role.AssumeRolePolicyDocument))
	}

	// Each thing a role holds blocks its deletion until removed.
	must[*iam.AttachRolePolicyOutput](t)(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("task"), PolicyArn: aws.String(s3ReadARN)}))
	must[*iam.PutRolePolicyOutput](t)(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("task"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(readS3)}))
	must[*iam.CreateInstanceProfileOutput](t)(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip")}))
	must[*iam.AddRoleToInstanceProfileOutput](t)(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("task")}))
	steps := []struct {
		want   string
		remove func() error
	}{
		{"must remove roles from instance profile first", func() error {
			_, err := c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("task")})
			return err
		}},
		{"must detach all policies first", func() error {
			_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("task"), PolicyArn: aws.String(s3ReadARN)})
			return err
		}},
		{"must delete policies first", func() error {
			_, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("task"), PolicyName: aws.String("inline")})
			return err
		}},
	}
	for _, step := range steps {
		_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("task")})
		wantAPIError(t, err, "DeleteConflict", 409)
		if !strings.Contains(err.Error(), step.want) {
			t.Errorf("DeleteRole: got %v, want %q", err, step.want)
		}
		if err := step.remove(); err != nil {
			t.Fatal(err)
		}
	}
	must[*iam.DeleteRoleOutput](t)(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("task")}))
	list := must[*iam.ListRolesOutput](t)(c.ListRoles(ctx, &iam.ListRolesInput{}))
	if len(list.Roles) != 0 {
		t.Errorf("ListRoles after delete: got %d roles", len(list.Roles))
	}
}

func TestListRolesPagination(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c"} {
		must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String("/x/"), AssumeRolePolicyDocument: aws.String(trustECS)}))
	}
	must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("other"), AssumeRolePolicyDocument: aws.String(trustECS)}))
	var got []string
	p := iam.NewListRolesPaginator(c, &iam.ListRolesInput{PathPrefix: aws.String("/x/"), MaxItems: aws.Int32(1)})
	for p.HasMorePages() {
		for _, r := range must[*iam.ListRolesOutput](t)(p.NextPage(ctx)).Roles {
			if r.Tags != nil || r.AssumeRolePolicyDocument == nil {
				t.Errorf("ListRoles entry: got %+v, want a trust policy and no tags", r)
			}
			got = append(got, aws.ToString(r.RoleName))
		}
	}
	if !cmp.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("got %v, want [a b c]", got)
	}
}

func TestServiceLinkedRoles(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	out := must[*iam.CreateServiceLinkedRoleOutput](t)(c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("ecs.amazonaws.com")}))
	if got, want := aws.ToString(out.Role.Arn), "arn:aws:iam::000000000000:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"; got != want {
		t.Errorf("Arn: got %q, want %q", got, want)
	}
	if got := decode(t, out.Role.AssumeRolePolicyDocument); !strings.Contains(got, `"Service":["ecs.amazonaws.com"]`) {
		t.Errorf("trust policy: got %s", got)
	}
	attached := must[*iam.ListAttachedRolePoliciesOutput](t)(c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("AWSServiceRoleForECS")}))
	if len(attached.AttachedPolicies) != 1 || aws.ToString(attached.AttachedPolicies[0].PolicyName) != "AmazonECSServiceRolePolicy" {
		t.Errorf("attached: got %+v", attached.AttachedPolicies)
	}
	_, err := c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("ecs.amazonaws.com")})
	wantAPIError(t, err, "InvalidInput", 400)
	_, err = c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("ecs.amazonaws.com"), CustomSuffix: aws.String("x")})
	wantAPIError(t, err, "InvalidInput", 400)
	scaling := must[*iam.CreateServiceLinkedRoleOutput](t)(c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("autoscaling.amazonaws.com"), CustomSuffix: aws.String("web")}))
	if got := aws.ToString(scaling.Role.RoleName); got != "AWSServiceRoleForAutoScaling_web" {
		t.Errorf("custom suffix: got %q", got)
	}

	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("AWSServiceRoleForECS")})
	var unmodifiable *types.UnmodifiableEntityException
	if !errors.As(err, &unmodifiable) {
		t.Fatalf("DeleteRole of a service-linked role: got %v, want UnmodifiableEntity", err)
	}
	_, err = c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("AWSServiceRoleForECS"), PolicyArn: attached.AttachedPolicies[0].PolicyArn})
	wantAPIError(t, err, "UnmodifiableEntity", 400)
	_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("AWSServiceRoleForAutoScaling_web"), PolicyArn: aws.String(adminARN)})
	wantAPIError(t, err, "UnmodifiableEntity", 400)

	del := must[*iam.DeleteServiceLinkedRoleOutput](t)(c.DeleteServiceLinkedRole(ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String("AWSServiceRoleForECS")}))
	if !strings.HasPrefix(aws.ToString(del.DeletionTaskId), "task/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS/") {
		t.Errorf("DeletionTaskId: got %q", aws.ToString(del.DeletionTaskId))
	}
	status := must[*iam.GetServiceLinkedRoleDeletionStatusOutput](t)(c.GetServiceLinkedRoleDeletionStatus(ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: del.DeletionTaskId}))
	if status.Status != types.DeletionTaskStatusTypeSucceeded {
		t.Errorf("deletion status: got %s, want SUCCEEDED", status.Status)
	}
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("AWSServiceRoleForECS")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	_, err = c.GetServiceLinkedRoleDeletionStatus(ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: aws.String("task/nope")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	// The role is gone, so its policy is no longer in use.
	p := must[*iam.GetPolicyOutput](t)(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: attached.AttachedPolicies[0].PolicyArn}))
	if aws.ToInt32(p.Policy.AttachmentCount) != 0 || p.Policy.IsAttachable {
		t.Errorf("service role policy: got AttachmentCount %d IsAttachable %v, want 0 and false", aws.ToInt32(p.Policy.AttachmentCount), p.Policy.IsAttachable)
	}
}

func TestManagedPolicies(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	created := must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read-s3"),
		Path: aws.String("/app/"), PolicyDocument: aws.String(readS3), Description: aws.String("reads")}))
	arn := aws.ToString(created.Policy.Arn)
	if aws.ToString(created.Policy.DefaultVersionId) != "v1" || !created.Policy.IsAttachable {
		t.Errorf("CreatePolicy: got %+v", created.Policy)
	}
	_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("bad"), PolicyDocument: aws.String(trustECS)})
	wantAPIError(t, err, "MalformedPolicyDocument", 400)
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 6200) + `"}]}`
	_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
	wantAPIError(t, err, "LimitExceeded", 409)

	got := must[*iam.GetPolicyOutput](t)(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}))
	if aws.ToString(got.Policy.Description) != "reads" || aws.ToInt32(got.Policy.AttachmentCount) != 0 {
		t.Errorf("GetPolicy: got %+v", got.Policy)
	}
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::000000000000:policy/other/read-s3")})
	wantAPIError(t, err, "NoSuchEntity", 404)

	// Versions: up to five, newest first, the default one protected.
	for i := 2; i <= 5; i++ {
		v := must[*iam.CreatePolicyVersionOutput](t)(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn),
			PolicyDocument: aws.String(readS3), SetAsDefault: i == 3}))
		if want := fmt.Sprintf("v%d", i); aws.ToString(v.PolicyVersion.VersionId) != want || v.PolicyVersion.IsDefaultVersion != (i == 3) {
			t.Errorf("CreatePolicyVersion: got %+v, want %s", v.PolicyVersion, want)
		}
	}
	_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(readS3)})
	wantAPIError(t, err, "LimitExceeded", 409)
	versions := must[*iam.ListPolicyVersionsOutput](t)(c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)}))
	var ids []string
	for _, v := range versions.Versions {
		ids = append(ids, aws.ToString(v.VersionId)+map[bool]string{true: "*"}[v.IsDefaultVersion])
	}
	if diff := cmp.Diff([]string{"v5", "v4", "v3*", "v2", "v1"}, ids); diff != "" {
		t.Errorf("ListPolicyVersions (-want +got):\n%s", diff)
	}
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")})
	wantAPIError(t, err, "DeleteConflict", 409)
	_, err = c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	must[*iam.SetDefaultPolicyVersionOutput](t)(c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")}))
	pv := must[*iam.GetPolicyVersionOutput](t)(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")}))
	if !pv.PolicyVersion.IsDefaultVersion || decode(t, pv.PolicyVersion.Document) != readS3 {
		t.Errorf("GetPolicyVersion: got %+v", pv.PolicyVersion)
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantAPIError(t, err, "DeleteConflict", 409)
	for _, v := range []string{"v2", "v3", "v4", "v5"} {
		must[*iam.DeletePolicyVersionOutput](t)(c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(v)}))
	}
	// Version IDs are not reused.
	v6 := must[*iam.CreatePolicyVersionOutput](t)(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(readS3)}))
	if aws.ToString(v6.PolicyVersion.VersionId) != "v6" {
		t.Errorf("next version: got %s, want v6", aws.ToString(v6.PolicyVersion.VersionId))
	}
	must[*iam.DeletePolicyVersionOutput](t)(c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v6")}))

	// Attached policies cannot be deleted.
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}))
	must[*iam.AttachUserPolicyOutput](t)(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(arn)}))
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantAPIError(t, err, "DeleteConflict", 409)
	must[*iam.DetachUserPolicyOutput](t)(c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(arn)}))
	must[*iam.DeletePolicyOutput](t)(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)}))
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	wantAPIError(t, err, "NoSuchEntity", 404)
}

func TestAWSManagedPolicies(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	for _, arn := range []string{adminARN, "arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess",
		"arn:aws:iam::aws:policy/AmazonS3FullAccess", s3ReadARN, "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess",
		"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly", "arn:aws:iam::aws:policy/AmazonECS_FullAccess",
		"arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", "arn:aws:iam::aws:policy/AWSCodeCommitFullAccess",
		"arn:aws:iam::aws:policy/AWSCodeBuildAdminAccess", "arn:aws:iam::aws:policy/AWSCodePipeline_FullAccess",
		"arn:aws:iam::aws:policy/AWSCodeDeployFullAccess", "arn:aws:iam::aws:policy/AWSCodeArtifactAdminAccess",
		"arn:aws:iam::aws:policy/CloudFrontFullAccess", "arn:aws:iam::aws:policy/AdministratorAccess-AWSElasticBeanstalk",
		"arn:aws:iam::aws:policy/AWSElasticBeanstalkWebTier", "arn:aws:iam::aws:policy/CloudWatchLogsFullAccess",
		"arn:aws:iam::aws:policy/SecretsManagerReadWrite", "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"} {
		p, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		if err != nil {
			t.Errorf("GetPolicy(%s): %v", arn, err)
			continue
		}
		v, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
		if err != nil {
			t.Errorf("GetPolicyVersion(%s): %v", arn, err)
			continue
		}
		if doc := decode(t, v.PolicyVersion.Document); !strings.Contains(doc, `"Statement"`) {
			t.Errorf("%s: got document %q", arn, doc)
		}
	}
	_, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(adminARN)})
	wantAPIError(t, err, "AccessDenied", 403)
	_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(adminARN), PolicyDocument: aws.String(readS3)})
	wantAPIError(t, err, "AccessDenied", 403)

	// Scope and OnlyAttached, with the SDK's paginator.
	must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("mine"), PolicyDocument: aws.String(readS3)}))
	must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustECS)}))
	must[*iam.AttachRolePolicyOutput](t)(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(adminARN)}))
	listAll := func(in *iam.ListPoliciesInput) []string {
		t.Helper()
		var names []string
		p := iam.NewListPoliciesPaginator(c, in)
		for p.HasMorePages() {
			for _, pol := range must[*iam.ListPoliciesOutput](t)(p.NextPage(ctx)).Policies {
				names = append(names, aws.ToString(pol.PolicyName))
			}
		}
		return names
	}
	local := listAll(&iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal})
	if !cmp.Equal(local, []string{"mine"}) {
		t.Errorf("Scope Local: got %v", local)
	}
	awsOnes := listAll(&iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, MaxItems: aws.Int32(7)})
	if len(awsOnes) < 20 || slices.Contains(awsOnes, "mine") {
		t.Errorf("Scope AWS: got %d policies %v", len(awsOnes), awsOnes)
	}
	all := listAll(&iam.ListPoliciesInput{MaxItems: aws.Int32(3)})
	if len(all) != len(awsOnes)+1 {
		t.Errorf("Scope All: got %d, want %d", len(all), len(awsOnes)+1)
	}
	attached := listAll(&iam.ListPoliciesInput{OnlyAttached: true})
	if !cmp.Equal(attached, []string{"AdministratorAccess"}) {
		t.Errorf("OnlyAttached: got %v", attached)
	}
	serviceRole := listAll(&iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, PathPrefix: aws.String("/service-role/")})
	if !slices.Contains(serviceRole, "AmazonECSTaskExecutionRolePolicy") || slices.Contains(serviceRole, "AdministratorAccess") {
		t.Errorf("PathPrefix /service-role/: got %v", serviceRole)
	}
	p := must[*iam.GetPolicyOutput](t)(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(adminARN)}))
	if aws.ToInt32(p.Policy.AttachmentCount) != 1 {
		t.Errorf("AdministratorAccess AttachmentCount: got %d, want 1", aws.ToInt32(p.Policy.AttachmentCount))
	}
}

// createHolders creates user u (at userPath), group g and role r: one of
// each kind of entity that policies attach to.
func createHolders(t *testing.T, c *iam.Client, userPath string) {
	t.Helper()
	ctx := context.Background()
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u"), Path: aws.String(userPath)}))
	must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}))
	must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustECS)}))
}

func TestAttachAndDetach(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	createHolders(t, c, "/people/")
	mine := aws.ToString(must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("mine"),
		Path: aws.String("/team/"), PolicyDocument: aws.String(readS3)})).Policy.Arn)

	for _, arn := range []string{adminARN, mine} {
		must[*iam.AttachUserPolicyOutput](t)(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(arn)}))
		must[*iam.AttachGroupPolicyOutput](t)(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(arn)}))
		must[*iam.AttachRolePolicyOutput](t)(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(arn)}))
	}
	// Attaching twice is a no-op, as in AWS.
	must[*iam.AttachUserPolicyOutput](t)(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(mine)}))
	p := must[*iam.GetPolicyOutput](t)(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(mine)}))
	if aws.ToInt32(p.Policy.AttachmentCount) != 3 {
		t.Errorf("AttachmentCount: got %d, want 3", aws.ToInt32(p.Policy.AttachmentCount))
	}

	_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("nobody"), PolicyArn: aws.String(adminARN)})
	wantAPIError(t, err, "NoSuchEntity", 404)
	_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String("arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy")})
	wantAPIError(t, err, "PolicyNotAttachable", 400)

	ents := must[*iam.ListEntitiesForPolicyOutput](t)(c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(mine)}))
	if len(ents.PolicyUsers) != 1 || aws.ToString(ents.PolicyUsers[0].UserName) != "u" || len(ents.PolicyGroups) != 1 || len(ents.PolicyRoles) != 1 {
		t.Errorf("ListEntitiesForPolicy: got users %+v groups %+v roles %+v", ents.PolicyUsers, ents.PolicyGroups, ents.PolicyRoles)
	}
	onlyRoles := must[*iam.ListEntitiesForPolicyOutput](t)(c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(mine), EntityFilter: types.EntityTypeRole}))
	if len(onlyRoles.PolicyUsers)+len(onlyRoles.PolicyGroups) != 0 || len(onlyRoles.PolicyRoles) != 1 {
		t.Errorf("EntityFilter Role: got %+v", onlyRoles)
	}
	people := must[*iam.ListEntitiesForPolicyOutput](t)(c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(mine), PathPrefix: aws.String("/people/")}))
	if len(people.PolicyUsers) != 1 || len(people.PolicyGroups)+len(people.PolicyRoles) != 0 {
		t.Errorf("PathPrefix /people/: got %+v", people)
	}
	var paged int
	pager := iam.NewListEntitiesForPolicyPaginator(c, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(mine), MaxItems: aws.Int32(1)})
	for pager.HasMorePages() {
		out := must[*iam.ListEntitiesForPolicyOutput](t)(pager.NextPage(ctx))
		paged += len(out.PolicyUsers) + len(out.PolicyGroups) + len(out.PolicyRoles)
	}
	if paged != 3 {
		t.Errorf("paged ListEntitiesForPolicy: got %d entities, want 3", paged)
	}

	list := must[*iam.ListAttachedUserPoliciesOutput](t)(c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("u"), PathPrefix: aws.String("/team/")}))
	if len(list.AttachedPolicies) != 1 || aws.ToString(list.AttachedPolicies[0].PolicyArn) != mine || aws.ToString(list.AttachedPolicies[0].PolicyName) != "mine" {
		t.Errorf("ListAttachedUserPolicies /team/: got %+v", list.AttachedPolicies)
	}
	glist := must[*iam.ListAttachedGroupPoliciesOutput](t)(c.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("g")}))
	if len(glist.AttachedPolicies) != 2 {
		t.Errorf("ListAttachedGroupPolicies: got %+v", glist.AttachedPolicies)
	}

	_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("g")})
	wantAPIError(t, err, "DeleteConflict", 409)
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("u")})
	wantAPIError(t, err, "DeleteConflict", 409)

	must[*iam.DetachGroupPolicyOutput](t)(c.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(mine)}))
	_, err = c.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(mine)})
	wantAPIError(t, err, "NoSuchEntity", 404)
	p = must[*iam.GetPolicyOutput](t)(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(mine)}))
	if aws.ToInt32(p.Policy.AttachmentCount) != 2 {
		t.Errorf("AttachmentCount after detach: got %d, want 2", aws.ToInt32(p.Policy.AttachmentCount))
	}

	// Quotas: 10 per user, 20 per role.
	for i := range 20 {
		arn := aws.ToString(must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("p%d", i)), PolicyDocument: aws.String(readS3)})).Policy.Arn)
		_, uerr := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(arn)})
		if i < 8 && uerr != nil {
			t.Fatalf("user policy %d: %v", i+3, uerr)
		}
		if i == 8 {
			wantAPIError(t, uerr, "LimitExceeded", 409)
		}
		_, rerr := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(arn)})
		if i < 18 && rerr != nil {
			t.Fatalf("role policy %d: %v", i+3, rerr)
		}
		if i == 18 {
			wantAPIError(t, rerr, "LimitExceeded", 409)
		}
	}
	rp := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("r"), MaxItems: aws.Int32(6)})
	n := 0
	for rp.HasMorePages() {
		n += len(must[*iam.ListAttachedRolePoliciesOutput](t)(rp.NextPage(ctx)).AttachedPolicies)
	}
	if n != 20 {
		t.Errorf("paged ListAttachedRolePolicies: got %d, want 20", n)
	}
}

func TestInlinePolicies(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	createHolders(t, c, "/")

	spaced := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}\n}"
	must[*iam.PutUserPolicyOutput](t)(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("b"), PolicyDocument: aws.String(spaced)}))
	must[*iam.PutUserPolicyOutput](t)(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("a"), PolicyDocument: aws.String(readS3)}))
	got := must[*iam.GetUserPolicyOutput](t)(c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("b")}))
	if decode(t, got.PolicyDocument) != spaced || aws.ToString(got.UserName) != "u" {
		t.Errorf("GetUserPolicy: got %q, want the document as put", decode(t, got.PolicyDocument))
	}
	names := must[*iam.ListUserPoliciesOutput](t)(c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("u")}))
	if !cmp.Equal(names.PolicyNames, []string{"a", "b"}) {
		t.Errorf("ListUserPolicies: got %v", names.PolicyNames)
	}
	// Replacing keeps one policy of that name.
	must[*iam.PutUserPolicyOutput](t)(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("a"), PolicyDocument: aws.String(spaced)}))
	names = must[*iam.ListUserPoliciesOutput](t)(c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("u")}))
	if len(names.PolicyNames) != 2 {
		t.Errorf("after replacing: got %v", names.PolicyNames)
	}

	// A user's inline policies share 2048 characters; a role's 10240.
	long := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 1900) + `"}]}`
	_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("long"), PolicyDocument: aws.String(long)})
	wantAPIError(t, err, "LimitExceeded", 409)
	must[*iam.PutRolePolicyOutput](t)(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("long"), PolicyDocument: aws.String(long)}))
	_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("bad"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`)})
	wantAPIError(t, err, "MalformedPolicyDocument", 400)
	if !strings.Contains(err.Error(), "Policy statement must contain resources.") {
		t.Errorf("got %v", err)
	}

	must[*iam.PutGroupPolicyOutput](t)(c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("g"), PolicyName: aws.String("gp"), PolicyDocument: aws.String(readS3)}))
	gp := must[*iam.GetGroupPolicyOutput](t)(c.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String("g"), PolicyName: aws.String("gp")}))
	if decode(t, gp.PolicyDocument) != readS3 {
		t.Errorf("GetGroupPolicy: got %s", decode(t, gp.PolicyDocument))
	}
	rp := must[*iam.GetRolePolicyOutput](t)(c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("long")}))
	if decode(t, rp.PolicyDocument) != long {
		t.Error("GetRolePolicy: document differs")
	}
	if n := must[*iam.ListGroupPoliciesOutput](t)(c.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String("g")})); !cmp.Equal(n.PolicyNames, []string{"gp"}) {
		t.Errorf("ListGroupPolicies: got %v", n.PolicyNames)
	}
	if n := must[*iam.ListRolePoliciesOutput](t)(c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("r")})); !cmp.Equal(n.PolicyNames, []string{"long"}) {
		t.Errorf("ListRolePolicies: got %v", n.PolicyNames)
	}

	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("u")})
	wantAPIError(t, err, "DeleteConflict", 409)
	for _, name := range []string{"a", "b"} {
		must[*iam.DeleteUserPolicyOutput](t)(c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String(name)}))
	}
	_, err = c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("a")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	_, err = c.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("g"), PolicyName: aws.String("nope")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	must[*iam.DeleteGroupPolicyOutput](t)(c.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("g"), PolicyName: aws.String("gp")}))
	must[*iam.DeleteRolePolicyOutput](t)(c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("long")}))
	must[*iam.DeleteUserOutput](t)(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("u")}))
	must[*iam.DeleteGroupOutput](t)(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("g")}))
	must[*iam.DeleteRoleOutput](t)(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")}))
}

func TestInstanceProfiles(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	ip := must[*iam.CreateInstanceProfileOutput](t)(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web"),
		Path: aws.String("/eb/"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}))
	if len(ip.InstanceProfile.Roles) != 0 {
		t.Errorf("CreateInstanceProfile: got %+v, want no roles", ip.InstanceProfile)
	}
	for _, r := range []string{"r1", "r2"} {
		must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r), AssumeRolePolicyDocument: aws.String(trustECS)}))
	}
	must[*iam.AddRoleToInstanceProfileOutput](t)(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r1")}))
	_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r2")})
	wantAPIError(t, err, "LimitExceeded", 409)

	got := must[*iam.GetInstanceProfileOutput](t)(c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web")}))
	if len(got.InstanceProfile.Roles) != 1 || aws.ToString(got.InstanceProfile.Roles[0].RoleName) != "r1" || len(got.InstanceProfile.Tags) != 1 {
		t.Errorf("GetInstanceProfile: got %+v", got.InstanceProfile)
	}
	forRole := must[*iam.ListInstanceProfilesForRoleOutput](t)(c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("r1")}))
	if len(forRole.InstanceProfiles) != 1 || aws.ToString(forRole.InstanceProfiles[0].InstanceProfileName) != "web" {
		t.Errorf("ListInstanceProfilesForRole: got %+v", forRole.InstanceProfiles)
	}
	list := must[*iam.ListInstanceProfilesOutput](t)(c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{PathPrefix: aws.String("/eb/")}))
	if len(list.InstanceProfiles) != 1 || len(list.InstanceProfiles[0].Roles) != 1 {
		t.Errorf("ListInstanceProfiles: got %+v", list.InstanceProfiles)
	}

	_, err = c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")})
	wantAPIError(t, err, "DeleteConflict", 409)
	_, err = c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r2")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	must[*iam.RemoveRoleFromInstanceProfileOutput](t)(c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r1")}))
	must[*iam.DeleteInstanceProfileOutput](t)(c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")}))
}

func TestAccountSummaryAndAliases(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u1")}))
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u2")}))
	must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustECS)}))
	must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(readS3)}))
	must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}))
	must[*iam.CreateInstanceProfileOutput](t)(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("i")}))
	sum := must[*iam.GetAccountSummaryOutput](t)(c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}))
	for k, want := range map[string]int32{"Users": 2, "Roles": 1, "Policies": 1, "Groups": 1, "InstanceProfiles": 1,
		"PolicyVersionsInUse": 1, "UsersQuota": 5000, "AccessKeysPerUserQuota": 2, "AttachedPoliciesPerRoleQuota": 20} {
		if got := sum.SummaryMap[k]; got != want {
			t.Errorf("SummaryMap[%s]: got %d, want %d", k, got, want)
		}
	}

	aliases := must[*iam.ListAccountAliasesOutput](t)(c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}))
	if len(aliases.AccountAliases) != 0 {
		t.Errorf("aliases before: got %v", aliases.AccountAliases)
	}
	must[*iam.CreateAccountAliasOutput](t)(c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("my-org")}))
	must[*iam.CreateAccountAliasOutput](t)(c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("my-org-2")}))
	aliases = must[*iam.ListAccountAliasesOutput](t)(c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}))
	if !cmp.Equal(aliases.AccountAliases, []string{"my-org-2"}) {
		t.Errorf("aliases: got %v, want the one alias set last", aliases.AccountAliases)
	}
	_, err := c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("Bad_Alias")})
	wantAPIError(t, err, "ValidationError", 400)
	_, err = c.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String("my-org")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	must[*iam.DeleteAccountAliasOutput](t)(c.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String("my-org-2")}))
}

func TestAccountAuthorizationDetails(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}))
	must[*iam.PutUserPolicyOutput](t)(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p"), PolicyDocument: aws.String(readS3)}))
	must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustECS)}))
	must[*iam.AttachRolePolicyOutput](t)(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(adminARN)}))
	var users, roles, policies int
	p := iam.NewGetAccountAuthorizationDetailsPaginator(c, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(1)})
	for p.HasMorePages() {
		out := must[*iam.GetAccountAuthorizationDetailsOutput](t)(p.NextPage(ctx))
		for _, u := range out.UserDetailList {
			users++
			if len(u.UserPolicyList) != 1 || decode(t, u.UserPolicyList[0].PolicyDocument) != readS3 {
				t.Errorf("user detail: got %+v", u)
			}
		}
		for _, r := range out.RoleDetailList {
			roles++
			if decode(t, r.AssumeRolePolicyDocument) != trustECS || len(r.AttachedManagedPolicies) != 1 {
				t.Errorf("role detail: got %+v", r)
			}
		}
		for _, pol := range out.Policies {
			policies++
			if aws.ToString(pol.PolicyName) != "AdministratorAccess" || len(pol.PolicyVersionList) != 1 {
				t.Errorf("policy detail: got %+v", pol)
			}
		}
	}
	if users != 1 || roles != 1 || policies != 1 {
		t.Errorf("got %d users, %d roles, %d policies, want 1 each", users, roles, policies)
	}
}

// TestRestart reads everything back from the store after a restart.
func TestRestart(t *testing.T) {
	c, srv := start(t)
	ctx := context.Background()
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("keeper"), Path: aws.String("/p/")}))
	key := must[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("keeper")}))
	must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}))
	must[*iam.AddUserToGroupOutput](t)(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("g"), UserName: aws.String("keeper")}))
	must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustECS)}))
	pol := must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(readS3)}))
	must[*iam.AttachRolePolicyOutput](t)(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: pol.Policy.Arn}))
	must[*iam.CreateInstanceProfileOutput](t)(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("i")}))
	must[*iam.AddRoleToInstanceProfileOutput](t)(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("i"), RoleName: aws.String("r")}))
	must[*iam.CreateAccountAliasOutput](t)(c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("kept")}))
	before := must[*iam.GetUserOutput](t)(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("keeper")}))

	srv.Restart(t)
	c = iam.NewFromConfig(srv.Config())

	after := must[*iam.GetUserOutput](t)(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("keeper")}))
	if !aws.ToTime(before.User.CreateDate).Equal(aws.ToTime(after.User.CreateDate)) || aws.ToString(before.User.UserId) != aws.ToString(after.User.UserId) {
		t.Errorf("user after restart: got %+v, want %+v", after.User, before.User)
	}
	me := must[*iam.GetUserOutput](t)(iam.NewFromConfig(srv.ConfigWith(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")).GetUser(ctx, &iam.GetUserInput{}))
	if aws.ToString(me.User.UserName) != "keeper" {
		t.Errorf("key after restart: got %+v", me.User)
	}
	g := must[*iam.GetGroupOutput](t)(c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("g")}))
	if len(g.Users) != 1 {
		t.Errorf("group after restart: got %d members", len(g.Users))
	}
	p := must[*iam.GetPolicyOutput](t)(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: pol.Policy.Arn}))
	if aws.ToInt32(p.Policy.AttachmentCount) != 1 {
		t.Errorf("policy after restart: got AttachmentCount %d", aws.ToInt32(p.Policy.AttachmentCount))
	}
	ip := must[*iam.GetInstanceProfileOutput](t)(c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("i")}))
	if len(ip.InstanceProfile.Roles) != 1 {
		t.Errorf("instance profile after restart: got %+v", ip.InstanceProfile)
	}
	aliases := must[*iam.ListAccountAliasesOutput](t)(c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}))
	if !cmp.Equal(aliases.AccountAliases, []string{"kept"}) {
		t.Errorf("alias after restart: got %v", aliases.AccountAliases)
	}
}

// TestAccountsAreSeparate: a 12-digit access key is its account's root.
func TestAccountsAreSeparate(t *testing.T) {
	c, srv := start(t)
	ctx := context.Background()
	other := iam.NewFromConfig(srv.ConfigWith("111111111111", "x", ""))
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("same")}))
	u := must[*iam.CreateUserOutput](t)(other.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("same")}))
	if got := aws.ToString(u.User.Arn); got != "arn:aws:iam::111111111111:user/same" {
		t.Errorf("Arn in the other account: got %q", got)
	}
	_, err := other.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	// Root keys of the other account work as that account.
	key := must[*iam.CreateAccessKeyOutput](t)(other.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{}))
	asRoot := iam.NewFromConfig(srv.ConfigWith(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), ""))
	me := must[*iam.GetUserOutput](t)(asRoot.GetUser(ctx, &iam.GetUserInput{}))
	if got := aws.ToString(me.User.Arn); got != "arn:aws:iam::111111111111:root" {
		t.Errorf("root key: got %q", got)
	}
}

func TestLoginProfileAndBoundaries(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	pol := must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("boundary"), PolicyDocument: aws.String(readS3)}))
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u"), PermissionsBoundary: pol.Policy.Arn}))
	got := must[*iam.GetUserOutput](t)(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("u")}))
	if got.User.PermissionsBoundary == nil || aws.ToString(got.User.PermissionsBoundary.PermissionsBoundaryArn) != aws.ToString(pol.Policy.Arn) {
		t.Errorf("PermissionsBoundary: got %+v", got.User.PermissionsBoundary)
	}
	p := must[*iam.GetPolicyOutput](t)(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: pol.Policy.Arn}))
	if aws.ToInt32(p.Policy.PermissionsBoundaryUsageCount) != 1 || aws.ToInt32(p.Policy.AttachmentCount) != 0 {
		t.Errorf("usage: got boundary %d attachment %d", aws.ToInt32(p.Policy.PermissionsBoundaryUsageCount), aws.ToInt32(p.Policy.AttachmentCount))
	}
	_, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: pol.Policy.Arn})
	wantAPIError(t, err, "DeleteConflict", 409)
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("v"), PermissionsBoundary: aws.String("arn:aws:iam::000000000000:policy/none")})
	wantAPIError(t, err, "NoSuchEntity", 404)

	must[*iam.CreateLoginProfileOutput](t)(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("u"), Password: aws.String("Secret-123")}))
	_, err = c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("u"), Password: aws.String("Secret-123")})
	wantAPIError(t, err, "EntityAlreadyExists", 409)
	lp := must[*iam.GetLoginProfileOutput](t)(c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("u")}))
	if aws.ToString(lp.LoginProfile.UserName) != "u" {
		t.Errorf("GetLoginProfile: got %+v", lp.LoginProfile)
	}
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("u")})
	wantAPIError(t, err, "DeleteConflict", 409)
	must[*iam.DeleteLoginProfileOutput](t)(c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("u")}))
	must[*iam.DeleteUserPermissionsBoundaryOutput](t)(c.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("u")}))
	must[*iam.DeleteUserOutput](t)(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("u")}))

	must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustECS)}))
	must[*iam.PutRolePermissionsBoundaryOutput](t)(c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("r"), PermissionsBoundary: pol.Policy.Arn}))
	role := must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")}))
	if role.Role.PermissionsBoundary == nil || role.Role.PermissionsBoundary.PermissionsBoundaryType != types.PermissionsBoundaryAttachmentTypePolicy {
		t.Errorf("role boundary: got %+v", role.Role.PermissionsBoundary)
	}
	boundaries := must[*iam.ListEntitiesForPolicyOutput](t)(c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: pol.Policy.Arn,
		PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}))
	if len(boundaries.PolicyRoles) != 1 {
		t.Errorf("ListEntitiesForPolicy PermissionsBoundary: got %+v", boundaries)
	}
	must[*iam.DeleteRolePermissionsBoundaryOutput](t)(c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("r")}))
	_, err = c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("r")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	must[*iam.DeletePolicyOutput](t)(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: pol.Policy.Arn}))
}

// TestValidationOverTheSDK checks the codec's validation of IAM requests
// (the model's constraints, worded as AWS words them) and the rules IAM
// keeps for what the model cannot say, through the SDK.
func TestValidationOverTheSDK(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t)
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}))
	key := must[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("u")}))
	var fiftyOne []types.Tag
	for i := range 51 {
		fiftyOne = append(fiftyOne, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
	}
	long := strings.Repeat("u", 65)
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"too long", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: &long})
			return err
		}, "1 validation error detected: Value '" + long + "' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"pattern and length", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("")})
			return err
		}, `2 validation errors detected: Value '' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+; ` +
			`Value '' at 'userName' failed to satisfy constraint: Member must have length greater than or equal to 1`},
		{"too many tags", func() error {
			_, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("u"), Tags: fiftyOne})
			return err
		}, "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"},
		{"page size", func() error {
			_, err := c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(1001)})
			return err
		}, "1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000"},
		{"Expired is AWS's to set", func() error {
			_, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("u"), AccessKeyId: key.AccessKey.AccessKeyId, Status: types.StatusTypeExpired})
			return err
		}, "1 validation error detected: Value 'Expired' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"},
		{"an alias pattern RE2 cannot check", func() error {
			_, err := c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("my--alias")})
			return err
		}, "1 validation error detected: Value 'my--alias' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			wantAPIError(t, err, "ValidationError", 400)
			var ae smithy.APIError
			errors.As(err, &ae)
			if diff := cmp.Diff(tt.want, ae.ErrorMessage()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}

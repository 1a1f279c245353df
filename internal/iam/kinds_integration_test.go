package iam_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"
)

// entityKind is one kind of named IAM entity as IAM's API names it: each
// kind has the same operations (CreateUser, GetUser, ListUsers, TagUser...)
// with the same members (UserName, Path, Tags...), so one table drives
// the SDK through all of them.
type entityKind struct {
	entity   string // in operation and member names
	plural   string // in List operations and their answers
	arnType  string // in ARNs
	idPrefix string
	missing  string         // NoSuchEntity's message for "nobody"
	create   map[string]any // members Create needs besides name, path and tags
	list     map[string]any // members List needs besides the path prefix
	byARN    bool           // requests name it by ARN after it is created
	tagged   bool
}

var entityKinds = []entityKind{
	{entity: "User", plural: "Users", arnType: "user", idPrefix: "AIDA", tagged: true,
		missing: "The user with name nobody cannot be found."},
	{entity: "Group", plural: "Groups", arnType: "group", idPrefix: "AGPA",
		missing: "The group with name nobody cannot be found."},
	{entity: "Role", plural: "Roles", arnType: "role", idPrefix: "AROA", tagged: true,
		missing: "The role with name nobody cannot be found.",
		create:  map[string]any{"AssumeRolePolicyDocument": aws.String(trustECS)}},
	{entity: "InstanceProfile", plural: "InstanceProfiles", arnType: "instance-profile", idPrefix: "AIPA", tagged: true,
		missing: "Instance Profile nobody cannot be found."},
	{entity: "Policy", plural: "Policies", arnType: "policy", idPrefix: "ANPA", tagged: true, byARN: true,
		missing: "Policy arn:aws:iam::000000000000:policy/kinds/nobody was not found.",
		create:  map[string]any{"PolicyDocument": aws.String(readS3)},
		list:    map[string]any{"Scope": types.PolicyScopeTypeLocal}},
}

// ref is the members that name an entity of the kind in a request.
func (k entityKind) ref(name string) map[string]any {
	if k.byARN {
		return map[string]any{k.entity + "Arn": aws.String("arn:aws:iam::000000000000:" + k.arnType + "/kinds/" + name)}
	}
	return map[string]any{k.entity + "Name": aws.String(name)}
}

// operation runs one of the client's operations by name.
type operation func(op string, members ...map[string]any) (reflect.Value, error)

// call runs the client's operation op with an input holding members and
// returns its output.
func call(ctx context.Context, c *iam.Client, op string, members ...map[string]any) (reflect.Value, error) {
	method := reflect.ValueOf(c).MethodByName(op)
	if !method.IsValid() {
		panic("no operation " + op)
	}
	in := reflect.New(method.Type().In(1).Elem())
	for _, m := range members {
		for name, v := range m {
			field := in.Elem().FieldByName(name)
			field.Set(reflect.ValueOf(v).Convert(field.Type()))
		}
	}
	res := method.Call([]reflect.Value{reflect.ValueOf(ctx), in})
	err, _ := res[1].Interface().(error)
	return res[0], err
}

// member reads the string at path in an output, following pointers.
func member(v reflect.Value, path ...string) string {
	for _, p := range path {
		v = reflect.Indirect(v).FieldByName(p)
	}
	return aws.ToString(v.Interface().(*string))
}

func tag(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

// TestEntityKinds checks what users, groups, roles, instance profiles and
// customer managed policies do alike: ARNs and IDs, names unique
// regardless of case, AWS's answer for one that is missing, listing by
// path, tags, and deletion.
func TestEntityKinds(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	run := func(op string, members ...map[string]any) (reflect.Value, error) { return call(ctx, c, op, members...) }
	for _, k := range entityKinds {
		t.Run(k.entity, func(t *testing.T) {
			do := func(op string, members ...map[string]any) (reflect.Value, error) { return run(op+k.entity, members...) }
			named := map[string]any{k.entity + "Name": aws.String("Thing"), "Path": aws.String("/kinds/")}
			if k.tagged {
				named["Tags"] = []types.Tag{tag("team", "platform")}
			}
			out, err := do("Create", named, k.create)
			if err != nil {
				t.Fatal(err)
			}
			arn := member(out, k.entity, "Arn")
			if want := "arn:aws:iam::000000000000:" + k.arnType + "/kinds/Thing"; arn != want {
				t.Errorf("Arn: got %q, want %q", arn, want)
			}
			if id := member(out, k.entity, k.entity+"Id"); !strings.HasPrefix(id, k.idPrefix) || !idPattern.MatchString(id) {
				t.Errorf("ID: got %q, want %s and 17 characters", id, k.idPrefix)
			}
			_, err = do("Create", named, map[string]any{k.entity + "Name": aws.String("THING")}, k.create)
			wantAPIError(t, err, "EntityAlreadyExists", 409)

			out, err = do("Get", k.ref("thing"))
			if err != nil {
				t.Fatalf("Get by another case: %v", err)
			}
			if got := member(out, k.entity, "Arn"); got != arn {
				t.Errorf("Get by another case: got %s, want %s", got, arn)
			}
			if k.tagged && reflect.Indirect(reflect.Indirect(out).FieldByName(k.entity)).FieldByName("Tags").Len() != 1 {
				t.Errorf("Get: got %+v, want its tag", out.Interface())
			}
			_, err = do("Get", k.ref("nobody"))
			wantAPIError(t, err, "NoSuchEntity", 404)
			if !strings.Contains(err.Error(), k.missing) {
				t.Errorf("got %v, want message %q", err, k.missing)
			}

			for prefix, want := range map[string][]string{"/kinds/": {"Thing"}, "/other/": {}} {
				out, err := run("List"+k.plural, map[string]any{"PathPrefix": aws.String(prefix)}, k.list)
				if err != nil {
					t.Fatal(err)
				}
				got := []string{}
				list := reflect.Indirect(out).FieldByName(k.plural)
				for i := range list.Len() {
					got = append(got, member(list.Index(i), k.entity+"Name"))
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("List%s %s (-want +got):\n%s", k.plural, prefix, diff)
				}
			}

			if k.tagged {
				checkTags(t, run, k)
			}

			if _, err := do("Delete", k.ref("thing")); err != nil {
				t.Fatal(err)
			}
			_, err = do("Get", k.ref("thing"))
			wantAPIError(t, err, "NoSuchEntity", 404)
			_, err = do("Delete", k.ref("thing"))
			wantAPIError(t, err, "NoSuchEntity", 404)
		})
	}
}

// checkTags tags Thing, created with team=platform: keys are matched
// regardless of case, and a request may not name a key twice.
func checkTags(t *testing.T, run operation, k entityKind) {
	t.Helper()
	tags := func() map[string]string {
		t.Helper()
		out, err := run("List"+k.entity+"Tags", k.ref("thing"))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, tg := range reflect.Indirect(out).FieldByName("Tags").Interface().([]types.Tag) {
			got[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return got
	}
	if _, err := run("Tag"+k.entity, k.ref("thing"),
		map[string]any{"Tags": []types.Tag{tag("TEAM", "infra"), tag("env", "dev")}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"TEAM": "infra", "env": "dev"}, tags()); diff != "" {
		t.Errorf("tags after Tag%s (-want +got):\n%s", k.entity, diff)
	}
	if _, err := run("Untag"+k.entity, k.ref("thing"), map[string]any{"TagKeys": []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"env": "dev"}, tags()); diff != "" {
		t.Errorf("tags after Untag%s (-want +got):\n%s", k.entity, diff)
	}
	_, err := run("Tag"+k.entity, k.ref("thing"), map[string]any{"Tags": []types.Tag{tag("a", "1"), tag("A", "2")}})
	wantAPIError(t, err, "InvalidInput", 400)
}

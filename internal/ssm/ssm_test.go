package ssm_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

func client(srv *awstest.Server) *ssm.Client { return ssm.NewFromConfig(srv.Config()) }

// start runs overcast for the test and returns an SSM client of it.
func start(t *testing.T, opts ...awstest.Option) (*awstest.Server, *ssm.Client) {
	t.Helper()
	srv := awstest.Start(t, opts...)
	return srv, client(srv)
}

func get(t *testing.T, c *ssm.Client, name string, decrypt bool) types.Parameter {
	t.Helper()
	return *awstest.Call(t, c.GetParameter, &ssm.GetParameterInput{Name: &name, WithDecryption: &decrypt}).Parameter
}

func TestPutAndGetEachType(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	_, c := start(t, awstest.Clock(clock.NewFake(now)))

	tests := []struct {
		name, typ, value, wantARN string
	}{
		{"plain", "String", "hello", "arn:aws:ssm:us-east-1:000000000000:parameter/plain"},
		{"/app/list", "StringList", "a,b,c", "arn:aws:ssm:us-east-1:000000000000:parameter/app/list"},
		{"/app/db/password", "SecureString", "hunter2", "arn:aws:ssm:us-east-1:000000000000:parameter/app/db/password"},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			out := awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: &tt.name, Value: &tt.value, Type: types.ParameterType(tt.typ)})
			if aws.ToInt64(&out.Version) != 1 || out.Tier != types.ParameterTierStandard {
				t.Errorf("PutParameter: got version %d tier %s, want 1 Standard", out.Version, out.Tier)
			}
			p := get(t, c, tt.name, true)
			got := []string{aws.ToString(p.Name), string(p.Type), aws.ToString(p.Value), aws.ToString(p.ARN), aws.ToString(p.DataType)}
			if diff := cmp.Diff([]string{tt.name, tt.typ, tt.value, tt.wantARN, "text"}, got); diff != "" {
				t.Errorf("GetParameter (-want +got):\n%s", diff)
			}
			if !p.LastModifiedDate.Equal(now) {
				t.Errorf("LastModifiedDate: got %v, want the injected clock's %v", p.LastModifiedDate, now)
			}
			byARN := get(t, c, tt.wantARN, true)
			if aws.ToString(byARN.Value) != tt.value {
				t.Errorf("GetParameter by ARN: got %q, want %q", aws.ToString(byARN.Value), tt.value)
			}
		})
	}

	// Without decryption AWS shows the ciphertext, base64: never the value.
	p := get(t, c, "/app/db/password", false)
	blob, err := base64.StdEncoding.DecodeString(aws.ToString(p.Value))
	if err != nil || bytes.Contains(blob, []byte("hunter2")) || aws.ToString(p.Value) == "hunter2" {
		t.Errorf("SecureString without decryption: got %q (%v), want base64 ciphertext", aws.ToString(p.Value), err)
	}
	if again := get(t, c, "/app/db/password", false); aws.ToString(again.Value) != aws.ToString(p.Value) {
		t.Errorf("the ciphertext shown changes between reads")
	}
	// Decryption is ignored for other types.
	if got := aws.ToString(get(t, c, "plain", false).Value); got != "hello" {
		t.Errorf("String without decryption: got %q, want hello", got)
	}

	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("missing")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterNotFound", Status: 400, NoMessage: true})
}

func TestOverwriteKeepsMetadata(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/cfg/key"), Value: aws.String("v1"), Type: types.ParameterTypeSecureString,
		Description: aws.String("the key"), AllowedPattern: aws.String(`v\d+`), KeyId: aws.String("alias/mine"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})

	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/cfg/key"), Value: aws.String("v2"), Type: types.ParameterTypeSecureString})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterAlreadyExists", Status: 400, Message: "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."})

	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/cfg/key"), Value: aws.String("v2"), Overwrite: aws.Bool(true),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ValidationException", Status: 400, Message: "tags and overwrite can't be used together"})

	out := awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/cfg/key"), Value: aws.String("v2"), Overwrite: aws.Bool(true)})
	if out.Version != 2 {
		t.Errorf("overwrite: got version %d, want 2", out.Version)
	}
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/cfg/key"), Value: aws.String("nope"), Overwrite: aws.Bool(true)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterPatternMismatchException", Status: 400, Message: `Parameter value, cannot be validated against allowedPattern: v\d+`})

	p := get(t, c, "/cfg/key", true)
	if aws.ToString(p.Value) != "v2" || p.Type != types.ParameterTypeSecureString {
		t.Errorf("after overwrite: got %s %q, want SecureString v2", p.Type, aws.ToString(p.Value))
	}
	d, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	if err != nil {
		t.Fatal(err)
	}
	m := d.Parameters[0]
	got := []string{aws.ToString(m.Description), aws.ToString(m.AllowedPattern), aws.ToString(m.KeyId), fmt.Sprint(m.Version)}
	if diff := cmp.Diff([]string{"the key", `v\d+`, "alias/mine", "2"}, got); diff != "" {
		t.Errorf("metadata after overwrite (-want +got):\n%s", diff)
	}
	tags, err := c.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/cfg/key")})
	if err != nil || len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Value) != "a" {
		t.Errorf("tags after overwrite: got %v %v, want team=a", tags, err)
	}

	// Changing the type on overwrite is allowed; the default key goes with it.
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/cfg/key"), Value: aws.String("v3"), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)})
	if p := get(t, c, "/cfg/key", false); p.Type != types.ParameterTypeString || aws.ToString(p.Value) != "v3" {
		t.Errorf("after changing type: got %s %q, want String v3", p.Type, aws.ToString(p.Value))
	}
}

func TestPutParameterRejects(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	long := func(n int) *string { return aws.String(strings.Repeat("x", n)) }
	deep := "/" + strings.Repeat("l/", 15) + "leaf"
	refused := func(name string, in ssm.PutParameterInput, code, contains string) awstest.ErrorCase {
		return awstest.ErrorCase{Name: name, Call: awstest.Fails(c.PutParameter, &in), Want: awstest.APIError{Code: code, Status: 400, Message: contains}}
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		refused("empty value", ssm.PutParameterInput{Name: aws.String("a"), Value: aws.String(""), Type: "String"},
			"ValidationException", "Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1."),
		refused("unknown type", ssm.PutParameterInput{Name: aws.String("a"), Value: aws.String("v"), Type: "str"},
			"ValidationException", "Value 'str' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]"),
		refused("no type on create", ssm.PutParameterInput{Name: aws.String("a"), Value: aws.String("v")},
			"ValidationException", "A parameter type is required when you create a parameter."),
		refused("aws prefix", ssm.PutParameterInput{Name: aws.String("aws_test"), Value: aws.String("v"), Type: "String"},
			"ValidationException", `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).`),
		refused("SSM prefix", ssm.PutParameterInput{Name: aws.String("SSM-x"), Value: aws.String("v"), Type: "String"},
			"ValidationException", `can't be prefixed with "aws" or "ssm"`),
		refused("ssm path", ssm.PutParameterInput{Name: aws.String("/ssm/x/y"), Value: aws.String("v"), Type: "String"},
			"ValidationException", `Parameter name: can't be prefixed with "ssm" (case-insensitive). If formed as a path`),
		refused("aws path", ssm.PutParameterInput{Name: aws.String("/AWS/x/y"), Value: aws.String("v"), Type: "String"},
			"AccessDeniedException", "No access to reserved parameter name: AWS/x/y."),
		refused("not fully qualified", ssm.PutParameterInput{Name: aws.String("a/b"), Value: aws.String("v"), Type: "String"},
			"ValidationException", "Parameter name must be a fully qualified name."),
		refused("bad character", ssm.PutParameterInput{Name: aws.String("a b"), Value: aws.String("v"), Type: "String"},
			"ValidationException", "each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_"),
		refused("empty level", ssm.PutParameterInput{Name: aws.String("/a//b"), Value: aws.String("v"), Type: "String"},
			"ValidationException", "sub-paths divided by slash symbol"),
		refused("16 levels", ssm.PutParameterInput{Name: &deep, Value: aws.String("v"), Type: "String"},
			"HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of 15 levels."),
		refused("name too long", ssm.PutParameterInput{Name: long(1012), Value: aws.String("v"), Type: "String"},
			"ValidationException", "1011 characters"),
		refused("standard value over 4 KB", ssm.PutParameterInput{Name: aws.String("big"), Value: long(4097), Type: "String"},
			"ValidationException", "Standard tier parameters support a maximum parameter value of 4096 characters."),
		refused("advanced value over 8 KB", ssm.PutParameterInput{Name: aws.String("big"), Value: long(8193), Type: "String", Tier: types.ParameterTierAdvanced},
			"ValidationException", "Advanced tier parameters support a maximum parameter value of 8192 characters."),
		refused("unknown data type", ssm.PutParameterInput{Name: aws.String("a"), Value: aws.String("v"), Type: "String", DataType: aws.String("not_text")},
			"ValidationException", "The following data type is not supported: not_text (Data type names are all lowercase.)"),
		refused("image data type on a SecureString", ssm.PutParameterInput{Name: aws.String("a"), Value: aws.String("ami-12345678"), Type: "SecureString", DataType: aws.String("aws:ec2:image")},
			"UnsupportedParameterType", "aws:ec2:image"),
		refused("image data type, not an AMI", ssm.PutParameterInput{Name: aws.String("a"), Value: aws.String("not-an-ami"), Type: "String", DataType: aws.String("aws:ec2:image")},
			"ValidationException", "Invalid AMI ID format"),
		refused("value not matching the pattern", ssm.PutParameterInput{Name: aws.String("a"), Value: aws.String("abc"), Type: "String", AllowedPattern: aws.String(`^\d+$`)},
			"ParameterPatternMismatchException", `Parameter value, cannot be validated against allowedPattern: ^\d+$`),
		refused("pattern matches only a part", ssm.PutParameterInput{Name: aws.String("a"), Value: aws.String("a1"), Type: "String", AllowedPattern: aws.String(`\d+`)},
			"ParameterPatternMismatchException", "allowedPattern"),
		refused("invalid pattern", ssm.PutParameterInput{Name: aws.String("a"), Value: aws.String("v"), Type: "String", AllowedPattern: aws.String(`(`)},
			"InvalidAllowedPatternException", "not a valid regular expression"),
		refused("policies on standard", ssm.PutParameterInput{Name: aws.String("a"), Value: aws.String("v"), Type: "String", Tier: types.ParameterTierStandard,
			Policies: aws.String(`[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-01-01T00:00:00Z"}}]`)},
			"ValidationException", "advanced-parameter tier"),
		refused("unknown policy type", ssm.PutParameterInput{Name: aws.String("a"), Value: aws.String("v"), Type: "String", Tier: types.ParameterTierAdvanced,
			Policies: aws.String(`[{"Type":"Explode"}]`)},
			"InvalidPolicyTypeException", "Explode"),
	})
	d, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	if err != nil || len(d.Parameters) != 0 {
		t.Errorf("after rejected puts: got %d parameters (%v), want none", len(d.Parameters), err)
	}
}

func TestTiers(t *testing.T) {
	_, c := start(t)
	ctx := context.Background()
	big := strings.Repeat("x", 5000)
	tests := []struct {
		name, value string
		tier        types.ParameterTier
		want        types.ParameterTier
	}{
		{"small-default", "v", "", types.ParameterTierStandard},
		{"small-intelligent", "v", types.ParameterTierIntelligentTiering, types.ParameterTierStandard},
		{"big-intelligent", big, types.ParameterTierIntelligentTiering, types.ParameterTierAdvanced},
		{"big-advanced", big, types.ParameterTierAdvanced, types.ParameterTierAdvanced},
		{"max-advanced", strings.Repeat("y", 8192), types.ParameterTierAdvanced, types.ParameterTierAdvanced},
	}
	for _, tt := range tests {
		out := awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: &tt.name, Value: &tt.value, Type: "String", Tier: tt.tier})
		if out.Tier != tt.want {
			t.Errorf("%s: got tier %s, want %s", tt.name, out.Tier, tt.want)
		}
	}
	// An advanced parameter stays advanced, and can't be downgraded.
	out := awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("big-advanced"), Value: aws.String("small"), Overwrite: aws.Bool(true)})
	if out.Tier != types.ParameterTierAdvanced {
		t.Errorf("overwrite of an advanced parameter: got tier %s, want Advanced", out.Tier)
	}
	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("big-advanced"), Value: aws.String("small"), Overwrite: aws.Bool(true), Tier: types.ParameterTierStandard})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ValidationException", Status: 400, Message: "You can't downgrade a parameter from the advanced-parameter tier"})

	d, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{
		{Key: aws.String("Tier"), Values: []string{"Advanced"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"big-advanced", "big-intelligent", "max-advanced"}, metadataNames(d.Parameters)); diff != "" {
		t.Errorf("Tier filter (-want +got):\n%s", diff)
	}
}

// sortedNames is the sorted names of parameters or their metadata.
func sortedNames[P any](ps []P, name func(P) *string) []string {
	var out []string
	for _, p := range ps {
		out = append(out, aws.ToString(name(p)))
	}
	slices.Sort(out)
	return out
}

func metadataNames(ps []types.ParameterMetadata) []string {
	return sortedNames(ps, func(p types.ParameterMetadata) *string { return p.Name })
}

func parameterNames(ps []types.Parameter) []string {
	return sortedNames(ps, func(p types.Parameter) *string { return p.Name })
}

func TestSelectorsAndLabels(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	for i := 1; i <= 3; i++ {
		awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/svc/url"), Value: aws.String(fmt.Sprintf("v%d", i)), Type: "String", Overwrite: aws.Bool(true)})
	}
	lab, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/svc/url"), ParameterVersion: aws.Int64(1),
		Labels: []string{"prod", "9bad", "awsx", "ok.label", "has/slash"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"9bad", "awsx", "has/slash"}, lab.InvalidLabels); diff != "" || lab.ParameterVersion != 1 {
		t.Errorf("LabelParameterVersion: version %d, invalid labels (-want +got):\n%s", lab.ParameterVersion, diff)
	}
	// Without a version, the label goes on the latest.
	lab, err = c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/svc/url"), Labels: []string{"latest"}})
	if err != nil || lab.ParameterVersion != 3 {
		t.Fatalf("label without version: got %v %v, want version 3", lab, err)
	}

	tests := []struct {
		ref, want string
		version   int64
		selector  string
	}{
		{"/svc/url", "v3", 3, ""},
		{"/svc/url:1", "v1", 1, ":1"},
		{"/svc/url:2", "v2", 2, ":2"},
		{"/svc/url:prod", "v1", 1, ":prod"},
		{"/svc/url:latest", "v3", 3, ":latest"},
		{"arn:aws:ssm:us-east-1:000000000000:parameter/svc/url:2", "v2", 2, ":2"},
	}
	for _, tt := range tests {
		p := get(t, c, tt.ref, false)
		if aws.ToString(p.Value) != tt.want || p.Version != tt.version || aws.ToString(p.Selector) != tt.selector {
			t.Errorf("GetParameter %s: got %q version %d selector %q, want %q %d %q", tt.ref,
				aws.ToString(p.Value), p.Version, aws.ToString(p.Selector), tt.want, tt.version, tt.selector)
		}
	}
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/svc/url:7")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterVersionNotFound", Status: 400, Message: "Systems Manager could not find version 7 of /svc/url. Verify the version and try again."})
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/svc/url:nolabel")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterNotFound", Status: 400, NoMessage: true})
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/svc/url:1:2")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterNotFound", Status: 400, NoMessage: true})

	// Moving a label: it leaves version 1 for version 2.
	if _, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/svc/url"), ParameterVersion: aws.Int64(2), Labels: []string{"prod"}}); err != nil {
		t.Fatal(err)
	}
	if p := get(t, c, "/svc/url:prod", false); p.Version != 2 {
		t.Errorf("moved label: got version %d, want 2", p.Version)
	}
	h, err := c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/svc/url")})
	if err != nil {
		t.Fatal(err)
	}
	var labels [][]string
	for _, v := range h.Parameters {
		labels = append(labels, v.Labels)
	}
	if diff := cmp.Diff([][]string{{"ok.label"}, {"prod"}, {"latest"}}, labels); diff != "" {
		t.Errorf("labels by version (-want +got):\n%s", diff)
	}

	// Ten labels per version at most.
	var ten []string
	for i := range 9 {
		ten = append(ten, fmt.Sprintf("l%d", i))
	}
	if _, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/svc/url"), ParameterVersion: aws.Int64(1), Labels: ten}); err != nil {
		t.Fatalf("reaching 10 labels: %v", err)
	}
	_, err = c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/svc/url"), ParameterVersion: aws.Int64(1), Labels: []string{"eleventh"}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterVersionLabelLimitExceeded", Status: 400, Message: "A parameter version can have maximum 10 labels."})
	_, err = c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/svc/url"), ParameterVersion: aws.Int64(9), Labels: []string{"x"}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterVersionNotFound", Status: 400, Message: "could not find version 9 of /svc/url"})
	_, err = c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/nope"), Labels: []string{"x"}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterNotFound", Status: 400, Message: "Parameter /nope not found."})
	_, err = c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/svc/url"), Labels: []string{strings.Repeat("a", 101)}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ValidationException", Status: 400, Message: "1 validation error detected: Value '[" + strings.Repeat("a", 101) + "]' at 'labels' failed to satisfy constraint: " +
		"Member must satisfy constraint: [Member must have length less than or equal to 100, Member must have length greater than or equal to 1]"})

	un, err := c.UnlabelParameterVersion(ctx, &ssm.UnlabelParameterVersionInput{Name: aws.String("/svc/url"), ParameterVersion: aws.Int64(2),
		Labels: []string{"prod", "latest"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"prod"}, {"latest"}}, [][]string{un.RemovedLabels, un.InvalidLabels}); diff != "" {
		t.Errorf("UnlabelParameterVersion removed/invalid (-want +got):\n%s", diff)
	}
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/svc/url:prod")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterNotFound", Status: 400})
	_, err = c.UnlabelParameterVersion(ctx, &ssm.UnlabelParameterVersionInput{Name: aws.String("/svc/url"), ParameterVersion: aws.Int64(5), Labels: []string{"x"}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterVersionNotFound", Status: 400})
}

func TestGetParameters(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("a"), Value: aws.String("1"), Type: "String"})
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/s"), Value: aws.String("secret"), Type: "SecureString"})
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("a"), Value: aws.String("2"), Type: "String", Overwrite: aws.Bool(true)})

	out, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"a", "a:1", "/s", "missing", "a:5", "a", "a:nolabel"}, WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range out.Parameters {
		got = append(got, aws.ToString(p.Name)+"="+aws.ToString(p.Value))
	}
	if diff := cmp.Diff([]string{"a=2", "a=1", "/s=secret"}, got); diff != "" {
		t.Errorf("Parameters (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"missing", "a:5", "a:nolabel"}, out.InvalidParameters); diff != "" {
		t.Errorf("InvalidParameters (-want +got):\n%s", diff)
	}
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = fmt.Sprint(i)
	}
	_, err = c.GetParameters(ctx, &ssm.GetParametersInput{Names: eleven})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ValidationException", Status: 400, Message: "1 validation error detected: Value '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10"})
}

func TestGetParametersByPath(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	params := map[string]types.ParameterType{
		"/foo/name1": "String", "/foo/name2": "String", "/bar/name3": "String", "/bar/name3/name4": "String",
		"/baz/list": "StringList", "/baz/plain": "String", "/baz/pwd": "SecureString", "foo": "String", "/top": "String",
	}
	for name, typ := range params {
		awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("value of " + name), Type: typ})
	}
	if _, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/foo/name2"), Labels: []string{"Label1"}}); err != nil {
		t.Fatal(err)
	}
	byPath := func(in *ssm.GetParametersByPathInput) []string {
		t.Helper()
		var all []types.Parameter
		p := ssm.NewGetParametersByPathPaginator(c, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("GetParametersByPath %s: %v", aws.ToString(in.Path), err)
			}
			if len(page.Parameters) > int(aws.ToInt32(in.MaxResults)) && in.MaxResults != nil {
				t.Errorf("page of %d, over MaxResults %d", len(page.Parameters), aws.ToInt32(in.MaxResults))
			}
			all = append(all, page.Parameters...)
		}
		return parameterNames(all)
	}
	filter := func(key, option string, values ...string) []types.ParameterStringFilter {
		f := types.ParameterStringFilter{Key: &key, Values: values}
		if option != "" {
			f.Option = &option
		}
		return []types.ParameterStringFilter{f}
	}
	tests := []struct {
		name string
		in   ssm.GetParametersByPathInput
		want []string
	}{
		{"root one level", ssm.GetParametersByPathInput{Path: aws.String("/")}, []string{"/top", "foo"}},
		{"root recursive", ssm.GetParametersByPathInput{Path: aws.String("/"), Recursive: aws.Bool(true)},
			[]string{"/bar/name3", "/bar/name3/name4", "/baz/list", "/baz/plain", "/baz/pwd", "/foo/name1", "/foo/name2", "/top", "foo"}},
		{"one level", ssm.GetParametersByPathInput{Path: aws.String("/bar")}, []string{"/bar/name3"}},
		{"trailing slash", ssm.GetParametersByPathInput{Path: aws.String("/bar/")}, []string{"/bar/name3"}},
		{"recursive", ssm.GetParametersByPathInput{Path: aws.String("/bar"), Recursive: aws.Bool(true)}, []string{"/bar/name3", "/bar/name3/name4"}},
		{"paged", ssm.GetParametersByPathInput{Path: aws.String("/"), Recursive: aws.Bool(true), MaxResults: aws.Int32(2)},
			[]string{"/bar/name3", "/bar/name3/name4", "/baz/list", "/baz/plain", "/baz/pwd", "/foo/name1", "/foo/name2", "/top", "foo"}},
		{"type", ssm.GetParametersByPathInput{Path: aws.String("/baz"), ParameterFilters: filter("Type", "Equals", "StringList")}, []string{"/baz/list"}},
		{"type begins with", ssm.GetParametersByPathInput{Path: aws.String("/baz"), ParameterFilters: filter("Type", "BeginsWith", "String")}, []string{"/baz/list", "/baz/plain"}},
		{"key id", ssm.GetParametersByPathInput{Path: aws.String("/baz"), ParameterFilters: filter("KeyId", "", "alias/aws/ssm")}, []string{"/baz/pwd"}},
		{"label", ssm.GetParametersByPathInput{Path: aws.String("/foo"), ParameterFilters: filter("Label", "", "Label1")}, []string{"/foo/name2"}},
		{"nothing there", ssm.GetParametersByPathInput{Path: aws.String("/none")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, byPath(&tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	out, err := c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/baz"), WithDecryption: aws.Bool(true), ParameterFilters: filter("Type", "", "SecureString")})
	if err != nil || len(out.Parameters) != 1 || aws.ToString(out.Parameters[0].Value) != "value of /baz/pwd" {
		t.Errorf("WithDecryption: got %v %v, want the plaintext", out, err)
	}

	refused := func(name string, in ssm.GetParametersByPathInput, code, contains string) awstest.ErrorCase {
		return awstest.ErrorCase{Name: name, Call: awstest.Fails(c.GetParametersByPath, &in), Want: awstest.APIError{Code: code, Status: 400, Message: contains}}
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		refused("max results", ssm.GetParametersByPathInput{Path: aws.String("/"), MaxResults: aws.Int32(11)},
			"ValidationException", "Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10"),
		refused("relative path", ssm.GetParametersByPathInput{Path: aws.String("foo")}, "ValidationException", "The parameter doesn't meet the parameter name requirements"),
		refused("name filter", ssm.GetParametersByPathInput{Path: aws.String("/"), ParameterFilters: filter("Name", "", "x")},
			"InvalidFilterKey", ""), // the model gives InvalidFilterKey no message member, so the SDK drops it
		refused("bad option", ssm.GetParametersByPathInput{Path: aws.String("/"), ParameterFilters: filter("Type", "Contains", "String")},
			"InvalidFilterOption", "The following filter option is not valid: Contains."),
		refused("bad token", ssm.GetParametersByPathInput{Path: aws.String("/"), NextToken: aws.String("!!")}, "InvalidNextToken", ""),
	})
}

func TestDescribeParameters(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("param"), Value: aws.String("v"), Type: "String", Description: aws.String("plain one")})
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/param-2"), Value: aws.String("v"), Type: "String"})
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/tangent/3"), Value: aws.String("v"), Type: "SecureString", KeyId: aws.String("alias/custom")})
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("tangram-4"), Value: aws.String("v"), Type: "SecureString",
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/img"), Value: aws.String("ami-0123456789abcdef0"), Type: "String", DataType: aws.String("aws:ec2:image")})
	if _, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("param"), Labels: []string{"blue"}}); err != nil {
		t.Fatal(err)
	}
	pf := func(key, option string, values ...string) *ssm.DescribeParametersInput {
		f := types.ParameterStringFilter{Key: &key, Values: values}
		if option != "" {
			f.Option = &option
		}
		return &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f}}
	}
	tests := []struct {
		name string
		in   *ssm.DescribeParametersInput
		want []string
	}{
		{"all", &ssm.DescribeParametersInput{}, []string{"/img", "/param-2", "/tangent/3", "param", "tangram-4"}},
		{"name equals", pf("Name", "", "param"), []string{"param"}},
		{"name equals ignores the leading slash", pf("Name", "Equals", "/param"), []string{"param"}},
		{"name begins with", pf("Name", "BeginsWith", "param"), []string{"/param-2", "param"}},
		{"name contains", pf("Name", "Contains", "tan"), []string{"/tangent/3", "tangram-4"}},
		{"type", pf("Type", "", "SecureString"), []string{"/tangent/3", "tangram-4"}},
		{"key id", pf("KeyId", "", "alias/aws/ssm"), []string{"tangram-4"}},
		{"key id begins with", pf("KeyId", "BeginsWith", "alias"), []string{"/tangent/3", "tangram-4"}},
		{"path one level", pf("Path", "", "/"), []string{"/img", "/param-2", "param", "tangram-4"}},
		{"path recursive", pf("Path", "Recursive", "/tangent"), []string{"/tangent/3"}},
		{"tier", pf("Tier", "", "Standard"), []string{"/img", "/param-2", "/tangent/3", "param", "tangram-4"}},
		{"data type", pf("DataType", "", "aws:ec2:image"), []string{"/img"}},
		{"label", pf("Label", "", "blue"), []string{"param"}},
		{"tag value", pf("tag:env", "", "prod"), []string{"tangram-4"}},
		{"tag exists", pf("tag:env", ""), []string{"tangram-4"}},
		{"legacy name filter", &ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"tangram"}}}}, []string{"tangram-4"}},
		{"legacy type filter", &ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyType, Values: []string{"SecureString"}}}}, []string{"/tangent/3", "tangram-4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var all []types.ParameterMetadata
			p := ssm.NewDescribeParametersPaginator(c, tt.in)
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, page.Parameters...)
			}
			if diff := cmp.Diff(tt.want, metadataNames(all)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	// One page at a time.
	page, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{MaxResults: aws.Int32(2)})
	if err != nil || len(page.Parameters) != 2 || page.NextToken == nil {
		t.Fatalf("first page: got %v %v, want 2 parameters and a token", page, err)
	}
	m := page.Parameters[0]
	if aws.ToString(m.ARN) != "arn:aws:ssm:us-east-1:000000000000:parameter/img" || aws.ToString(m.LastModifiedUser) != "arn:aws:iam::000000000000:root" || m.Version != 1 {
		t.Errorf("metadata: got %s %s %d", aws.ToString(m.ARN), aws.ToString(m.LastModifiedUser), m.Version)
	}

	refused := func(name string, in *ssm.DescribeParametersInput, code, contains string) awstest.ErrorCase {
		return awstest.ErrorCase{Name: name, Call: awstest.Fails(c.DescribeParameters, in), Want: awstest.APIError{Code: code, Status: 400, Message: contains}}
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		refused("both filter kinds", &ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: "Name", Values: []string{"a"}}}, ParameterFilters: pf("Name", "", "a").ParameterFilters},
			"ValidationException", "You can use either Filters or ParameterFilters in a single request."),
		refused("unknown key", pf("key", "", "x"), "ValidationException", "Member must satisfy regular expression pattern: tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType"),
		refused("bad option", pf("Name", "option", "x"), "InvalidFilterOption", "The following filter option is not valid: option."),
		refused("path option", pf("Path", "Equals", "/x"), "InvalidFilterOption", "Valid options include: [Recursive, OneLevel]."),
		refused("missing values", pf("Name", ""), "InvalidFilterValue", "The following filter values are missing : null for filter key Name"),
		refused("bad type", pf("Type", "", "test"), "InvalidFilterValue", "The following filter value is not valid: test. Valid values include: [String, StringList, SecureString]"),
		refused("bad tier", pf("Tier", "", "test"), "InvalidFilterValue", "Valid values include: [Standard, Advanced, Intelligent-Tiering]"),
		refused("reserved path", pf("Path", "", "/aws"), "ValidationException", `Filters for common parameters can't be prefixed with "aws" or "ssm" (case-insensitive).`),
		refused("bad path", pf("Path", "", "test"), "ValidationException", "The parameter doesn't meet the parameter name requirements"),
		refused("duplicate", &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{
			{Key: aws.String("Name"), Values: []string{"a"}}, {Key: aws.String("Name"), Values: []string{"b"}}}},
			"InvalidFilterKey", ""),
		refused("max results", &ssm.DescribeParametersInput{MaxResults: aws.Int32(51)}, "ValidationException", "Member must have value less than or equal to 50"),
	})
}

func TestParameterHistory(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	for i := range 5 {
		awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("h"), Value: aws.String(fmt.Sprintf("value-%d", i)), Type: "SecureString",
			Description: aws.String(fmt.Sprintf("version %d", i+1)), Overwrite: aws.Bool(true)})
	}
	var values []string
	p := ssm.NewGetParameterHistoryPaginator(c, &ssm.GetParameterHistoryInput{Name: aws.String("h"), WithDecryption: aws.Bool(true), MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range page.Parameters {
			values = append(values, fmt.Sprintf("%d %s %s %s", h.Version, aws.ToString(h.Value), aws.ToString(h.Description), aws.ToString(h.KeyId)))
		}
	}
	want := []string{
		"1 value-0 version 1 alias/aws/ssm", "2 value-1 version 2 alias/aws/ssm", "3 value-2 version 3 alias/aws/ssm",
		"4 value-3 version 4 alias/aws/ssm", "5 value-4 version 5 alias/aws/ssm",
	}
	if diff := cmp.Diff(want, values); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	h, err := c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("h")})
	if err != nil {
		t.Fatal(err)
	}
	if v := aws.ToString(h.Parameters[0].Value); strings.HasPrefix(v, "value-") {
		t.Errorf("history without decryption shows %q, want ciphertext", v)
	}
	_, err = c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("nope")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterNotFound", Status: 400, Message: "Parameter nope not found."})
	_, err = c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("h"), MaxResults: aws.Int32(51)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ValidationException", Status: 400, Message: "Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50"})
}

func TestVersionLimit(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	for i := 1; i <= 100; i++ {
		awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("many"), Value: aws.String(fmt.Sprint(i)), Type: "String", Overwrite: aws.Bool(true)})
	}
	if _, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("many"), ParameterVersion: aws.Int64(1), Labels: []string{"pinned"}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("many"), Value: aws.String("101"), Overwrite: aws.Bool(true)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterMaxVersionLimitExceeded", Status: 400, Message: "Version 1, the oldest version, can't be deleted because it has a label associated with it."})

	if _, err := c.UnlabelParameterVersion(ctx, &ssm.UnlabelParameterVersionInput{Name: aws.String("many"), ParameterVersion: aws.Int64(1), Labels: []string{"pinned"}}); err != nil {
		t.Fatal(err)
	}
	out := awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("many"), Value: aws.String("101"), Overwrite: aws.Bool(true)})
	if out.Version != 101 {
		t.Errorf("got version %d, want 101", out.Version)
	}
	var versions []int64
	p := ssm.NewGetParameterHistoryPaginator(c, &ssm.GetParameterHistoryInput{Name: aws.String("many")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range page.Parameters {
			versions = append(versions, h.Version)
		}
	}
	if len(versions) != 100 || versions[0] != 2 || versions[99] != 101 {
		t.Errorf("history: got %d versions %d..%d, want 100 versions 2..101", len(versions), versions[0], versions[len(versions)-1])
	}
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("many:1")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterVersionNotFound", Status: 400})
}

func TestDeleteParameters(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	for _, n := range []string{"a", "b", "/c/d"} {
		awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String(n), Value: aws.String("v"), Type: "String"})
	}
	if _, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("a")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterNotFound", Status: 400, NoMessage: true})
	out, err := c.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: []string{"b", "nope", "arn:aws:ssm:us-east-1:000000000000:parameter/c/d"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"b", "arn:aws:ssm:us-east-1:000000000000:parameter/c/d"}, {"nope"}}, [][]string{out.DeletedParameters, out.InvalidParameters}); diff != "" {
		t.Errorf("deleted/invalid (-want +got):\n%s", diff)
	}
	// A re-created parameter starts over at version 1 with no history.
	if v := awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("b"), Value: aws.String("new"), Type: "String"}).Version; v != 1 {
		t.Errorf("re-created: got version %d, want 1", v)
	}
	h, err := c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("b")})
	if err != nil || len(h.Parameters) != 1 {
		t.Errorf("history of the re-created parameter: got %v %v, want one version", h, err)
	}
}

func TestTags(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	_, err := c.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: "Parameter", ResourceId: aws.String("p"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidResourceId", Status: 400})
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("p"), Value: aws.String("v"), Type: "String", Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	if _, err := c.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: "Parameter", ResourceId: aws.String("p"),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("2")}, {Key: aws.String("b"), Value: aws.String("3")}}}); err != nil {
		t.Fatal(err)
	}
	list := func() []string {
		out, err := c.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: "Parameter", ResourceId: aws.String("p")})
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, tg := range out.TagList {
			got = append(got, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		return got
	}
	if diff := cmp.Diff([]string{"a=2", "b=3"}, list()); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if _, err := c.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: "Parameter", ResourceId: aws.String("p"), TagKeys: []string{"a", "zz"}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b=3"}, list()); diff != "" {
		t.Errorf("tags after remove (-want +got):\n%s", diff)
	}
	_, err = c.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: "Document", ResourceId: aws.String("p")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidResourceType", Status: 400})
	var many []types.Tag
	for i := range 51 {
		many = append(many, types.Tag{Key: aws.String(fmt.Sprint(i)), Value: aws.String("v")})
	}
	_, err = c.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: "Parameter", ResourceId: aws.String("p"), Tags: many})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "TooManyTagsError", Status: 400})
}

func TestAccountsAndRegionsAreSeparate(t *testing.T) {
	ctx := context.Background()
	srv, c := start(t)
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/shared/name"), Value: aws.String("east"), Type: "String"})

	west := srv.Config()
	west.Region = "eu-west-1"
	other := srv.ConfigWith("123456789012", "secret", "")
	for name, cfg := range map[string]aws.Config{"other region": west, "other account": other} {
		oc := ssm.NewFromConfig(cfg)
		_, err := oc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/shared/name")})
		awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterNotFound", Status: 400})
		awstest.Call(t, oc.PutParameter, &ssm.PutParameterInput{Name: aws.String("/shared/name"), Value: aws.String(name), Type: "String"})
		if got := aws.ToString(get(t, oc, "/shared/name", false).Value); got != name {
			t.Errorf("%s: got %q", name, got)
		}
	}
	// An ARN of another region does not reach across.
	_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("arn:aws:ssm:eu-west-1:000000000000:parameter/shared/name")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ParameterNotFound", Status: 400})
	if got := aws.ToString(get(t, c, "/shared/name", false).Value); got != "east" {
		t.Errorf("us-east-1 value: got %q, want east", got)
	}
}

func TestSurvivesRestartWithTheSameKey(t *testing.T) {
	srv, c := start(t)
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/keep/secret"), Value: aws.String("still-here"), Type: "SecureString"})
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/keep/secret"), Value: aws.String("v2"), Type: "SecureString", Overwrite: aws.Bool(true)})
	if _, err := c.LabelParameterVersion(context.Background(), &ssm.LabelParameterVersionInput{Name: aws.String("/keep/secret"), ParameterVersion: aws.Int64(1), Labels: []string{"first"}}); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(srv.DataDir, "secretbox.key")
	key, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatalf("key file: %v", err)
	}

	srv.Restart(t)
	c = client(srv)
	if got := aws.ToString(get(t, c, "/keep/secret:first", true).Value); got != "still-here" {
		t.Errorf("after restart: got %q, want still-here", got)
	}
	if got := aws.ToString(get(t, c, "/keep/secret", true).Value); got != "v2" {
		t.Errorf("after restart: got %q, want v2", got)
	}
	again, err := os.ReadFile(keyPath)
	if err != nil || !bytes.Equal(key, again) {
		t.Errorf("the key file changed across a restart")
	}
	info, err := os.Stat(keyPath)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: got %v (%v), want 0600", info.Mode().Perm(), err)
	}
}

func TestSecureStringNotStoredInPlaintext(t *testing.T) {
	srv, c := start(t)
	const plain = "PLAINTEXT-canary-8f3a1c"
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/canary"), Value: aws.String(plain), Type: "SecureString"})
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/visible"), Value: aws.String("VISIBLE-canary-77"), Type: "String"})
	srv.Restart(t) // a clean shutdown checkpoints the WAL into the database file
	srv.WantSealedOnDisk(t, plain, "VISIBLE-canary-77")
	if got := aws.ToString(get(t, client(srv), "/canary", true).Value); got != plain {
		t.Errorf("got %q, want %q", got, plain)
	}
}

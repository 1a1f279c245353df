package ecr

import (
	"overcast"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/ecr"
	"overcast/internal/ecr/registry"
	"overcast/internal/service/servicetest"
	"overcast/internal/tabletest"
)

func mustPolicy(t *testing.T, text string) *lifecyclePolicy {
	t.Helper()
	p, err := parseLifecyclePolicy(text)
	if err != nil {
		t.Fatalf("parseLifecyclePolicy: %v", err)
	}
	return p
}

// TestEvaluate checks the evaluation rules of ECR's lifecycle policies
// (LifecyclePolicies.md, "Lifecycle policy evaluation rules" and the
// examples that follow it).
func TestEvaluate(t *testing.T) {
	now := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }
	tests := []struct {
		name   string
		policy string
		images []lcImage
		want   map[string]int
	}{
		{
			name:   "untagged older than 14 days",
			policy: `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}`,
			images: []lcImage{{"a", nil, day(20)}, {"b", nil, day(10)}, {"c", []string{"v1"}, day(30)}},
			want:   map[string]int{"a": 1},
		},
		{
			name:   "keep the newest 2 prod images",
			policy: `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}`,
			images: []lcImage{{"a", []string{"prod1"}, day(4)}, {"b", []string{"prod2"}, day(3)}, {"c", []string{"prod3"}, day(2)}, {"d", []string{"prod4"}, day(1)}, {"e", []string{"dev"}, day(9)}},
			want:   map[string]int{"a": 1, "b": 1},
		},
		{
			// AWS's example "Filtering on multiple rules": rule 2 identifies A
			// and B as well but cannot mark what rule 1 marked or matched.
			name: "two rules over the same images",
			policy: `{"rules":[
				{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["alpha"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
				{"rulePriority":2,"selection":{"tagStatus":"tagged","tagPrefixList":["beta"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`,
			images: []lcImage{{"A", []string{"alpha-1", "beta-1"}, day(10)}, {"B", []string{"alpha-2", "beta-2"}, day(9)}, {"C", []string{"alpha-3", "beta-3"}, day(8)}},
			want:   map[string]int{"A": 1, "B": 1},
		},
		{
			name: "a lower rule cannot expire an image a higher rule matched",
			policy: `{"rules":[
				{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}},
				{"rulePriority":2,"selection":{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}}]}`,
			images: []lcImage{{"p", []string{"prod-1"}, day(30)}, {"d", []string{"dev-1"}, day(30)}, {"n", nil, day(1)}},
			want:   map[string]int{"d": 2},
		},
		{
			name: "rules applied by ascending priority whatever their order in the text",
			policy: `{"rules":[
				{"rulePriority":20,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
				{"rulePriority":10,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`,
			images: []lcImage{{"u1", nil, day(3)}, {"u2", nil, day(2)}, {"t", []string{"x"}, day(1)}},
			want:   map[string]int{"u1": 10},
		},
		{
			name:   "every pattern must match one of the tags",
			policy: `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["*release*","*-signed"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}`,
			images: []lcImage{{"both", []string{"v1-release", "v1-signed"}, day(5)}, {"one", []string{"v2-release"}, day(5)}, {"new", []string{"release", "x-signed"}, now}},
			want:   map[string]int{"both": 1},
		},
		{
			name:   "every prefix must match one of the tags",
			policy: `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["prod","v"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`,
			images: []lcImage{{"a", []string{"prod", "v1"}, day(3)}, {"b", []string{"prod", "v2"}, day(2)}, {"c", []string{"prod"}, day(4)}},
			want:   map[string]int{"a": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := evaluate(mustPolicy(t, tt.policy), tt.images, now)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("expired (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLifecyclePolicyValidation(t *testing.T) {
	rule := func(prio int, sel string) string {
		return `{"rulePriority":` + strconv.Itoa(prio) + `,"selection":` + sel + `,"action":{"type":"expire"}}`
	}
	untagged := `{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1}`
	anySel := `{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1}`
	tests := []struct {
		name, policy, want string
	}{
		{"not JSON", `{"rules":[`, "not valid JSON"},
		{"no rules", `{"rules":[]}`, `"rules" is required`},
		{"unknown field", `{"rules":[` + rule(1, untagged) + `],"extra":1}`, "unknown field"},
		{"duplicate priority", `{"rules":[` + rule(1, untagged) + `,` + rule(1, `{"tagStatus":"tagged","tagPrefixList":["a"],"countType":"imageCountMoreThan","countNumber":1}`) + `]}`, "rulePriority 1 is used by more than one rule"},
		{"two untagged rules", `{"rules":[` + rule(1, untagged) + `,` + rule(2, untagged) + `]}`, "only one rule can select untagged images"},
		{"any not last", `{"rules":[` + rule(1, anySel) + `,` + rule(2, untagged) + `]}`, "must have the highest rulePriority"},
		{"tagged without list", `{"rules":[` + rule(1, `{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1}`) + `]}`, "tagPrefixList or tagPatternList is required"},
		{"both lists", `{"rules":[` + rule(1, `{"tagStatus":"tagged","tagPrefixList":["a"],"tagPatternList":["a*"],"countType":"imageCountMoreThan","countNumber":1}`) + `]}`, "cannot both be used"},
		{"too many wildcards", `{"rules":[` + rule(1, `{"tagStatus":"tagged","tagPatternList":["*a*b*c*d*"],"countType":"imageCountMoreThan","countNumber":1}`) + `]}`, "more than 4 wildcard"},
		{"prefix with untagged", `{"rules":[` + rule(1, `{"tagStatus":"untagged","tagPrefixList":["a"],"countType":"imageCountMoreThan","countNumber":1}`) + `]}`, "only be used when tagStatus is tagged"},
		{"bad count type", `{"rules":[` + rule(1, `{"tagStatus":"untagged","countType":"imagesOlderThan","countNumber":1}`) + `]}`, "countType must be"},
		{"since without unit", `{"rules":[` + rule(1, `{"tagStatus":"untagged","countType":"sinceImagePushed","countNumber":1}`) + `]}`, "countUnit must be days"},
		{"count with unit", `{"rules":[` + rule(1, `{"tagStatus":"untagged","countType":"imageCountMoreThan","countUnit":"days","countNumber":1}`) + `]}`, "countUnit cannot be used"},
		{"zero count", `{"rules":[` + rule(1, `{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":0}`) + `]}`, "countNumber is required and must be a positive integer"},
		{"bad tag status", `{"rules":[` + rule(1, `{"tagStatus":"some","countType":"imageCountMoreThan","countNumber":1}`) + `]}`, "tagStatus must be one of"},
		{"bad action", `{"rules":[{"rulePriority":1,"selection":` + untagged + `,"action":{"type":"delete"}}]}`, `"action" must be`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseLifecyclePolicy(tt.policy)
			e, ok := err.(*api.InvalidParameterException)
			if !ok {
				t.Fatalf("got %v, want InvalidParameterException", err)
			}
			if !strings.Contains(*e.Message, tt.want) {
				t.Errorf("got %q, want it to name %q", *e.Message, tt.want)
			}
		})
	}
	if _, err := parseLifecyclePolicy(`{"rules":[` + rule(2, anySel) + `,` + rule(1, untagged) + `]}`); err != nil {
		t.Errorf("valid policy: got %v", err)
	}
}

func TestImmutable(t *testing.T) {
	filters := []exclusionFilter{{"WILDCARD", "latest"}, {"WILDCARD", "dev-*"}}
	type modeTag struct{ mode, tag string }
	immutable := func(in modeTag) bool {
		r := repository{Mutability: in.mode, Exclusions: filters}
		return r.immutable(in.tag)
	}
	tabletest.Run(t, "immutable", immutable, map[modeTag]bool{
		{"MUTABLE", "v1"}:                      false,
		{"IMMUTABLE", "v1"}:                    true,
		{"IMMUTABLE_WITH_EXCLUSION", "v1"}:     true,
		{"IMMUTABLE_WITH_EXCLUSION", "latest"}: false,
		{"IMMUTABLE_WITH_EXCLUSION", "dev-42"}: false,
		{"MUTABLE_WITH_EXCLUSION", "v1"}:       false,
		{"MUTABLE_WITH_EXCLUSION", "dev-42"}:   true,
	})
}

func TestRepoPolicy(t *testing.T) {
	p, err := checkRepoPolicy(`{"Version":"2012-10-17","Statement":[
		{"Sid":"pull","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:root","222222222222"]},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]},
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:role/ci"},"Action":"ecr:*"},
		{"Effect":"Deny","Principal":"*","Action":"ecr:BatchDeleteImage"},
		{"Effect":"Allow","Principal":"*","Action":"ecr:DescribeImages","Resource":"arn:aws:ecr:us-east-1:000000000000:repository/other"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	repo := registry.Repo{Account: "000000000000", Region: "us-east-1", Name: "app"}
	tests := []struct {
		account, principal, action string
		want                       bool
	}{
		{"111111111111", "arn:aws:iam::111111111111:user/bob", "ecr:BatchGetImage", true},
		{"111111111111", "arn:aws:iam::111111111111:root", "ecr:PutImage", false},
		{"222222222222", "arn:aws:iam::222222222222:root", "ecr:GetDownloadUrlForLayer", true},
		{"333333333333", "arn:aws:sts::333333333333:assumed-role/ci/build-7", "ecr:PutImage", true},
		{"333333333333", "arn:aws:iam::333333333333:user/ci", "ecr:PutImage", false},
		{"333333333333", "arn:aws:sts::333333333333:assumed-role/ci/build-7", "ecr:BatchDeleteImage", false},
		{"444444444444", "arn:aws:iam::444444444444:root", "ecr:BatchGetImage", false},
		{"444444444444", "arn:aws:iam::444444444444:root", "ecr:DescribeImages", false}, // a statement for another repository
	}
	for _, tt := range tests {
		if got := repoPolicyAllows(p, repo, tt.account, tt.principal, tt.action); got != tt.want {
			t.Errorf("%s doing %s: got %v, want %v", tt.principal, tt.action, got, tt.want)
		}
	}
	for _, bad := range []string{`not json`, `{"Statement":[]}`, `{"Statement":[{"Effect":"Allow","Action":"ecr:*"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`, `{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"ecr:*"}]}`} {
		_, err := checkRepoPolicy(bad)
		if e, ok := err.(*api.InvalidParameterException); !ok || !strings.Contains(*e.Message, "Invalid repository policy provided") {
			t.Errorf("checkRepoPolicy(%s): got %v, want InvalidParameterException", bad, err)
		}
	}
}

func TestParseImageURI(t *testing.T) {
	const dig = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	// parse also checks that a parsed reference's URI parses back to it.
	type parsed struct {
		Ref  ImageRef
		Pull string // the reference docker pulls through overcast
	}
	parse := func(uri string) (parsed, bool) {
		got, ok := ParseImageURI(uri, "000000000000", "us-east-1")
		if !ok {
			return parsed{Ref: got}, false
		}
		if again, ok := ParseImageURI(got.URI(), "x", "y"); !ok || again != got {
			t.Errorf("URI %q does not parse back: got %+v, %v", got.URI(), again, ok)
		}
		return parsed{got, got.PullReference("127.0.0.1:4566")}, true
	}
	tabletest.RunCommaOK(t, "ParseImageURI", parse, map[string]parsed{
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1": {ImageRef{"123456789012", "eu-west-1", "team/app", "v1", ""},
			"127.0.0.1:4566/123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1"},
		"123456789012.dkr.ecr.us-east-1.amazonaws.com/app@" + dig: {ImageRef{"123456789012", "us-east-1", "app", "", dig},
			"127.0.0.1:4566/123456789012.dkr.ecr.us-east-1.amazonaws.com/app@" + dig},
		"123456789012.dkr.ecr.us-east-1.amazonaws.com/app": {ImageRef{"123456789012", "us-east-1", "app", "latest", ""},
			"127.0.0.1:4566/123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest"},
		"127.0.0.1:4566/app:v2": {ImageRef{"000000000000", "us-east-1", "app", "v2", ""},
			"127.0.0.1:4566/000000000000.dkr.ecr.us-east-1.amazonaws.com/app:v2"},
		"localhost:4566/ns/app:v2@" + dig: {ImageRef{"000000000000", "us-east-1", "ns/app", "", dig},
			"127.0.0.1:4566/000000000000.dkr.ecr.us-east-1.amazonaws.com/ns/app@" + dig},
		"127.0.0.1:4566/222222222222.dkr.ecr.ap-south-1.amazonaws.com/app:1": {ImageRef{"222222222222", "ap-south-1", "app", "1", ""},
			"127.0.0.1:4566/222222222222.dkr.ecr.ap-south-1.amazonaws.com/app:1"},
	}, "nginx:latest", "docker.io/library/nginx", "public.ecr.aws/nginx/nginx:1", "10.0.0.5:5000/app:1",
		"123456789012.dkr.ecr.us-east-1.amazonaws.com/App:1", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:short")
}

func TestTokens(t *testing.T) {
	env := servicetest.Env(t)
	fake := servicetest.Fake(env)
	now := fake.Now()
	s, err := New(env)
	if err != nil {
		t.Fatal(err)
	}
	tok := s.registryToken("111111111111", "eu-west-1", overcast.Caller{ARN: "arn:aws:iam::111111111111:user/a"}, now.Add(TokenLifetime))
	id, ok := s.Authenticate(t.Context(), "AWS", tok)
	if !ok || id.Account != "111111111111" || id.Region != "eu-west-1" || id.Principal != "arn:aws:iam::111111111111:user/a" {
		t.Fatalf("got %+v, %v, want the token's identity", id, ok)
	}
	if _, ok := s.Authenticate(t.Context(), "bob", tok); ok {
		t.Error("a user other than AWS was accepted")
	}
	if _, ok := s.Authenticate(t.Context(), "AWS", tok[:len(tok)-2]+"xx"); ok {
		t.Error("a tampered token was accepted")
	}
	other, err := New(servicetest.Env(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := other.Authenticate(t.Context(), "AWS", tok); ok {
		t.Error("a token signed with another key was accepted")
	}
	fake.Advance(TokenLifetime)
	if _, ok := s.Authenticate(t.Context(), "AWS", tok); ok {
		t.Error("an expired token was accepted")
	}
}

func TestInsertSorted(t *testing.T) {
	var got []string
	for _, s := range []string{"b", "a", "c", "a"} {
		got = insertSorted(got, s)
	}
	want := []string{"a", "b", "c"}
	if !sort.StringsAreSorted(got) || !cmp.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

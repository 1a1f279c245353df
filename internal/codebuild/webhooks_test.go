package codebuild

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/codebuild"
	"overcast/internal/bus"
	"overcast/internal/codebuild/runner"
	"overcast/internal/service"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
)

func filter(typ, pattern string, exclude bool) api.WebhookFilter {
	return api.WebhookFilter{Type: &typ, Pattern: &pattern, ExcludeMatchedPattern: &exclude}
}

func TestWebhookMatches(t *testing.T) {
	push := webhookTrigger{Event: "PUSH", HeadRef: "refs/heads/main", Actor: "111122223333", Commit: "c2", PrevCommit: "c1",
		Details: func() (string, []string, error) {
			return "fix: the parser [skip docs]", []string{"src/parse.go", "README.md"}, nil
		}}
	tests := []struct {
		name    string
		webhook api.Webhook
		want    bool
	}{
		{"no filters: every push", api.Webhook{}, true},
		{"branch filter", api.Webhook{BranchFilter: new("^main$")}, true},
		{"branch filter elsewhere", api.Webhook{BranchFilter: new("^release/.*")}, false},
		{"event and head ref", api.Webhook{FilterGroups: api.FilterGroups{{filter("EVENT", "PUSH", false), filter("HEAD_REF", "^refs/heads/main$", false)}}}, true},
		{"event list", api.Webhook{FilterGroups: api.FilterGroups{{filter("EVENT", "PULL_REQUEST_CREATED, PUSH", false)}}}, true},
		{"pull requests only", api.Webhook{FilterGroups: api.FilterGroups{{filter("EVENT", "PULL_REQUEST_CREATED", false)}}}, false},
		{"excluded head ref", api.Webhook{FilterGroups: api.FilterGroups{{filter("EVENT", "PUSH", false), filter("HEAD_REF", "main", true)}}}, false},
		{"base ref needs a pull request", api.Webhook{FilterGroups: api.FilterGroups{{filter("EVENT", "PUSH", false), filter("BASE_REF", ".*", false)}}}, false},
		{"actor", api.Webhook{FilterGroups: api.FilterGroups{{filter("EVENT", "PUSH", false), filter("ACTOR_ACCOUNT_ID", "^1111", false)}}}, true},
		{"file path", api.Webhook{FilterGroups: api.FilterGroups{{filter("EVENT", "PUSH", false), filter("FILE_PATH", `^src/`, false)}}}, true},
		{"file path excluded", api.Webhook{FilterGroups: api.FilterGroups{{filter("EVENT", "PUSH", false), filter("FILE_PATH", `\.md$`, true)}}}, false},
		{"commit message", api.Webhook{FilterGroups: api.FilterGroups{{filter("EVENT", "PUSH", false), filter("COMMIT_MESSAGE", `^fix:`, false)}}}, true},
		{"second group matches", api.Webhook{FilterGroups: api.FilterGroups{
			{filter("EVENT", "PUSH", false), filter("HEAD_REF", "^refs/tags/", false)},
			{filter("EVENT", "PUSH", false), filter("COMMIT_MESSAGE", `skip docs`, false)},
		}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := webhookMatches(&tt.webhook, push)
			if err != nil || got != tt.want {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	failing := push
	failing.Details = func() (string, []string, error) { return "", nil, errors.New("no repository") }
	if _, err := webhookMatches(&api.Webhook{FilterGroups: api.FilterGroups{{filter("EVENT", "PUSH", false), filter("FILE_PATH", "x", false)}}}, failing); err == nil {
		t.Error("a FILE_PATH filter without the repository: got no error")
	}
}

func TestValidateFilterGroups(t *testing.T) {
	for _, tt := range []struct {
		name   string
		groups api.FilterGroups
		want   string
	}{
		{"no EVENT filter", api.FilterGroups{{filter("HEAD_REF", "main", false)}}, "exactly one EVENT filter"},
		{"unknown event", api.FilterGroups{{filter("EVENT", "PUSHED", false)}}, "not one of"},
		{"bad pattern", api.FilterGroups{{filter("EVENT", "PUSH", false), filter("HEAD_REF", "(", false)}}, "not a valid regular expression"},
		{"unsupported type", api.FilterGroups{{filter("EVENT", "PUSH", false), filter("WORKFLOW_NAME", "x", false)}}, "not supported"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := validateFilterGroups(tt.groups); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// push publishes a CodeCommit push as CodeCommit does.
func (h *harness) push(t *testing.T, repo, branch, commit, prev string) {
	t.Helper()
	detail, _ := json.Marshal(repositoryChange{Event: "referenceUpdated", RepositoryName: repo, ReferenceType: "branch",
		ReferenceName: branch, ReferenceFullName: "refs/heads/" + branch, CommitID: commit, OldCommitID: prev,
		CallerUserArn: "arn:aws:iam::111122223333:user/dev"})
	err := h.env.Store.Update(context.Background(), func(tx store.Tx) error {
		return h.env.Bus.Publish(context.Background(), tx, bus.Event{Source: codecommitSource, Type: repositoryStateChange,
			Account: "111122223333", Region: "eu-west-1", Detail: detail})
	})
	if err != nil {
		t.Fatal(err)
	}
	h.env.Bus.Notify()
}

func TestWebhookStartsBuildsOnPush(t *testing.T) {
	r := &fakeRunner{status: runner.StatusSucceeded}
	h := newHarness(t, r, 0)
	h.project(t, "app", func(in *api.CreateProjectInput) {
		in.Source = &api.ProjectSource{Type: new("CODECOMMIT"), Location: new("https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/shop")}
		in.Environment.EnvironmentVariables = nil
	})
	h.project(t, "other", nil)
	created, err := h.s.CreateWebhook(h.ctx, &api.CreateWebhookInput{ProjectName: new("app"),
		FilterGroups: api.FilterGroups{{filter("EVENT", "PUSH", false), filter("HEAD_REF", "^refs/heads/main$", false)}}})
	if err != nil {
		t.Fatal(err)
	}
	if service.Deref(created.Webhook.Secret) == "" || !strings.Contains(*created.Webhook.PayloadUrl, "codebuild.eu-west-1") {
		t.Errorf("webhook: got secret %q, payloadUrl %q", service.Deref(created.Webhook.Secret), *created.Webhook.PayloadUrl)
	}
	if _, err := h.s.CreateWebhook(h.ctx, &api.CreateWebhookInput{ProjectName: new("app")}); err == nil {
		t.Error("a second webhook: got no error")
	}
	if _, err := h.s.CreateWebhook(h.ctx, &api.CreateWebhookInput{ProjectName: new("other")}); err == nil {
		t.Error("a webhook on a NO_SOURCE project: got no error")
	}

	h.push(t, "shop", "feature", "f00d", "beef") // filtered out
	h.push(t, "shop", "main", "c0ffee", "f00d")
	var builds []string
	servicetest.WaitFor(t, "a build of the push to main", func() bool {
		out, err := h.s.ListBuildsForProject(h.ctx, &api.ListBuildsForProjectInput{ProjectName: new("app")})
		builds = out.Ids
		return err == nil && len(builds) > 0
	})
	b := h.waitStatus(t, builds[0], statusSucceeded)
	if *b.SourceVersion != "c0ffee" || *b.Initiator != "codecommit-webhook" {
		t.Errorf("build: got sourceVersion %s, initiator %s; want c0ffee, codecommit-webhook", *b.SourceVersion, *b.Initiator)
	}
	want := map[string]string{"CODEBUILD_WEBHOOK_EVENT": "PUSH", "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/main",
		"CODEBUILD_WEBHOOK_TRIGGER": "branch/main", "CODEBUILD_WEBHOOK_ACTOR_ACCOUNT_ID": "111122223333",
		"CODEBUILD_WEBHOOK_PREV_COMMIT": "f00d", "CODEBUILD_SOURCE_VERSION": "c0ffee"}
	got := map[string]string{}
	for k := range want {
		got[k] = r.builds[0].System[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("webhook variables (-want +got):\n%s", diff)
	}

	// Events are handled in order: the push to feature, handled first,
	// started nothing.
	out, _ := h.s.ListBuildsForProject(h.ctx, &api.ListBuildsForProjectInput{ProjectName: new("app")})
	if len(out.Ids) != 1 {
		t.Errorf("builds: got %v, want one", out.Ids)
	}

	updated, err := h.s.UpdateWebhook(h.ctx, &api.UpdateWebhookInput{ProjectName: new("app"), BuildType: new("BUILD_BATCH")})
	if err != nil || *updated.Webhook.BuildType != "BUILD_BATCH" || updated.Webhook.Secret != nil {
		t.Errorf("UpdateWebhook: got %+v, %v", updated, err)
	}
	if _, err := h.s.DeleteWebhook(h.ctx, &api.DeleteWebhookInput{ProjectName: new("app")}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.DeleteWebhook(h.ctx, &api.DeleteWebhookInput{ProjectName: new("app")}); err == nil {
		t.Error("deleting a deleted webhook: got no error")
	}
	p, _ := h.s.BatchGetProjects(h.ctx, &api.BatchGetProjectsInput{Names: api.ProjectNames{"app"}})
	if p.Projects[0].Webhook != nil {
		t.Errorf("project after DeleteWebhook: got webhook %+v", p.Projects[0].Webhook)
	}
}
